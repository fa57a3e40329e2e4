"""What every package of the product shares and depends on nothing else: the settings tree (`newsqa.settings`),
where things are (`newsqa.paths`) and the root of the product's errors (`newsqa.errors`). index/, qa/ and ui/ may
import it; it imports none of them."""
