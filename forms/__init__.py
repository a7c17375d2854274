"""What a participant meets on the web: the pages, the private link, the JSON API, templates."""
