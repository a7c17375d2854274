"""What a participant meets: the registration schema, its rules, the pages and the JSON API."""
