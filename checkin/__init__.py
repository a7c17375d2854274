"""On the day of the event: check-in codes, presence per day, the check-in pages for staff's
phones (`/obsluga/wydarzenia/<slug>/obecnosc`, `/o/<code>`)."""
