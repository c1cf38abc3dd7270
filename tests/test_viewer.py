from starlette.requests import Request

from sourcebook.viewer import Viewer
from sourcebook.web.viewing import viewer_of


def test_roles_are_ordered() -> None:
    editor = Viewer(user="ana", role="editor", groups=frozenset({"legal"}))
    assert editor.signed_in
    assert editor.has_role("reader") and editor.has_role("editor")
    assert not editor.has_role("admin")
    assert not Viewer.anonymous().signed_in
    assert not Viewer.anonymous().has_role("reader")
    assert Viewer.system().operator and Viewer.system().has_role("admin")


def test_a_request_nobody_identified_is_anonymous() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    assert viewer_of(request) == Viewer.anonymous()
    request.state.viewer = Viewer(user="ana", role="reader")
    assert viewer_of(request).user == "ana"
