# Seed 000_16a6fbdf987519b6.txt, "Test with curl to isolate frontend
# issues": the two lines below are the seed's, byte for byte (the trailing
# space inside the quotes included). seed_consumers.test.mjs substitutes only
# the port (8000) and the audit id (123) and runs the result with /bin/sh,
# TOKEN in its environment.
curl -N -H "Authorization: Bearer $TOKEN " \
http://localhost:8000/api/v1/sse/audits/123/progress
