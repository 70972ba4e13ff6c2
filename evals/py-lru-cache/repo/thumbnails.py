"""Thumbnail service: renders thumbnails on demand and caches the results."""

from lru import LRUCache


class Thumbnails:
    def __init__(self, render, capacity=100):
        self._render = render
        self._cache = LRUCache(capacity)
        self.renders = 0

    def get(self, path, size):
        key = (path, size)
        image = self._cache.get(key)
        if image is None:
            image = self._render(path, size)
            self.renders += 1
            self._cache.put(key, image)
        return image
