"""The queries: each domain's reads shared by services, activities and the API's hot reads."""
