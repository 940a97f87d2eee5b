"""What a viewer token reads: the task without its `callback_url` (which often carries the
receiver's secret), and nothing at all without the sign-in session that made it."""

from __future__ import annotations

from datetime import timedelta

from api.auth.tokens import TokenType, create_token
from videoanalysis.tables import Task, User

CALLBACK = "https://hooks.example.com/videoanalysis?secret=receiver-secret-42"


async def test_a_viewer_token_answer_has_no_callback_url_and_the_owners_has(api_client, signup_user):
    data, headers = await signup_user(api_client)
    task = await Task.create(
        owner_id=data["user"]["id"], model="opencv-face", video_uri="videos://x.mp4", callback_url=CALLBACK
    )
    result = f"/tasks/video-analysis-result/{task.id}/"
    owner = await api_client.get(result, headers=headers)
    assert owner.status_code == 200 and owner.json()["callback_url"] == CALLBACK
    link = await api_client.post(f"/tasks/{task.id}/viewer-link", headers=headers)
    viewer = await api_client.get(result, params={"viewer_token": link.json()["viewer_token"]})
    assert viewer.status_code == 200 and viewer.json()["task_id"] == str(task.id)
    assert viewer.json()["callback_url"] is None and "receiver-secret-42" not in viewer.text
    page = await api_client.get(f"/tasks/{task.id}/view", params={"viewer_token": link.json()["viewer_token"]})
    assert "receiver-secret-42" not in page.text
    # the owner's answer after the viewer's is whole: nothing was cleared in the task row
    assert (await api_client.get(result, headers=headers)).json()["callback_url"] == CALLBACK


async def test_a_viewer_token_without_a_session_is_refused(api_client, signup_user):
    data, _ = await signup_user(api_client)
    task = await Task.create(owner_id=data["user"]["id"], model="opencv-face", video_uri="videos://x.mp4")
    user = await User.get(id=data["user"]["id"])
    sessionless = create_token(
        user, TokenType.VIEWER, timedelta(minutes=5), api_client.settings.secret_key, task_id=str(task.id)
    )
    refused = await api_client.get(f"/tasks/video-analysis-result/{task.id}/", params={"viewer_token": sessionless})
    assert refused.status_code == 401 and "belongs to no sign-in session" in refused.json()["detail"]
