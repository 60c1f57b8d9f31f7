// A project without a deploy config; the search starts in src/ and stops at package.json.
