"""What staff get: the close-off at the deadline, the summary, the lists they organise with."""
