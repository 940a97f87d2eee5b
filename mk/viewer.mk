# Results viewer tests: a real headless Chromium driven through chromedriver.
# Debian's `chromium` and `chromium-driver` are installed only when /usr/bin/chromium is missing.
.PHONY: viewer-prereqs

viewer-prereqs:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi

test-prereqs:: viewer-prereqs
