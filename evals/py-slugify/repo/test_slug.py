import unittest

from slug import slugify, unique_slug


class SlugifyTest(unittest.TestCase):
    def test_ascii(self):
        self.assertEqual(slugify("Hello, World!"), "hello-world")
        self.assertEqual(slugify("  --Rust 2024: what's new?--  "), "rust-2024-what-s-new")

    def test_accents(self):
        self.assertEqual(slugify("Crème brûlée"), "creme-brulee")
        self.assertEqual(slugify("Émile Zola à Paris"), "emile-zola-a-paris")
        self.assertEqual(slugify("Ångström & Façade"), "angstrom-facade")

    def test_max_length(self):
        self.assertEqual(slugify("abc def ghi", max_length=7), "abc-def")
        self.assertEqual(slugify("abc def ghi", max_length=8), "abc-def")

    def test_nothing_left(self):
        self.assertEqual(slugify("!!!"), "")

    def test_unique(self):
        taken = {"creme-brulee", "creme-brulee-2"}
        self.assertEqual(unique_slug("Crème Brûlée", taken), "creme-brulee-3")


if __name__ == "__main__":
    unittest.main()
