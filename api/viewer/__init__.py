"""The results viewer: its page, video and frame routes (`routes`), who may open them by header
or viewer link (`access`, also used by the result and track routes), the label colours and box
drawing shared with the page's script (`boxes`), and the page's static files (`static/`)."""
