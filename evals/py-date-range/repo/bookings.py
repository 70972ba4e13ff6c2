"""Room bookings."""

from daterange import DateRange


class Room:
    def __init__(self, name):
        self.name = name
        self.bookings = []

    def is_free(self, day):
        return not any(day in booking for booking in self.bookings)

    def book(self, start, end):
        """Book the room from `start` to `end` inclusive; refuses overlaps."""
        wanted = DateRange(start, end)
        for booking in self.bookings:
            if booking.overlaps(wanted):
                raise ValueError(f"{self.name} is already booked {booking}")
        self.bookings.append(wanted)
        return wanted
