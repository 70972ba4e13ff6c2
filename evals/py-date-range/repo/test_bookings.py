import unittest
from datetime import date

from bookings import Room


class RoomTest(unittest.TestCase):
    def test_last_day_is_booked(self):
        room = Room("Blue")
        room.book(date(2024, 3, 1), date(2024, 3, 5))
        self.assertFalse(room.is_free(date(2024, 3, 1)))
        self.assertFalse(room.is_free(date(2024, 3, 5)))
        self.assertTrue(room.is_free(date(2024, 3, 6)))

    def test_overlapping_booking_refused(self):
        room = Room("Blue")
        room.book(date(2024, 3, 1), date(2024, 3, 5))
        with self.assertRaises(ValueError):
            room.book(date(2024, 3, 5), date(2024, 3, 7))
        room.book(date(2024, 3, 6), date(2024, 3, 7))
        self.assertEqual(len(room.bookings), 2)


if __name__ == "__main__":
    unittest.main()
