# The two commands a newcomer needs (see README.md).

.PHONY: run test schemas

# Poll every feed of deploy/feeds.yaml once and print the enriched records as JSON lines.
run:
	@cargo run --release -p newswire -- run --once

# Everything CI runs: fmt, clippy, build, and all tests on a real Kafka broker.
test:
	@scripts/test.sh

# Regenerate deploy/schemas/ from the record types.
schemas:
	@cargo run -p newswire -- schemas --out deploy/schemas
