"""Release metadata: licence, brand images, changelog, versions and scripts/release."""
