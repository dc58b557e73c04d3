"""Domain package shared by the workflows, activities, API and worker."""
