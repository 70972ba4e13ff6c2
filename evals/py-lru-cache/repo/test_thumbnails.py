import unittest

from thumbnails import Thumbnails


class ThumbnailsTest(unittest.TestCase):
    def test_hot_thumbnail_stays_cached(self):
        thumbs = Thumbnails(lambda path, size: f"{path}@{size}", capacity=2)
        thumbs.get("logo.png", 64)
        thumbs.get("a.png", 64)
        for name in ["b.png", "c.png", "d.png"]:
            self.assertEqual(thumbs.get("logo.png", 64), "logo.png@64")
            thumbs.get(name, 64)
        self.assertEqual(thumbs.renders, 5)


if __name__ == "__main__":
    unittest.main()
