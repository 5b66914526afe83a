"""Every kind of reader page: no serious accessibility violations (axe-core), and
screenshots at phone and desktop width in test-artifacts/screenshots/ to look at."""

import pytest

from tests.browser.conftest import SCREENSHOTS

PAGES = {
    "home": "/",
    "zoeken": "/zoeken/?q=Poetin",
    "artikel": "/artikel/opmars-van-prigozjin-laat-zien-hoe-kwetsbaar-poetins-rusland-is/",
    "actor": "/actor/vladimir-poetin/",
    "gebeurtenis": "/gebeurtenis/wagner-muiterij/",
}
VIEWPORTS = {"telefoon": (390, 844), "desktop": (1280, 900)}
BLOCKING = {"serious", "critical"}


def describe(violations) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node['failureSummary']}")
            lines.append(f"      {node['html'][:200]}")
    return "\n".join(lines)


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_no_serious_accessibility_violations(site, page, axe_source, path):
    response = page.goto(site + path)
    assert response.status == 200
    # Evaluated through the DevTools protocol: an added <script> would be inline code,
    # which the page's Content-Security-Policy rightly refuses.
    page.evaluate(axe_source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core on {path}:\n{describe(blocking)}"


@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_screenshots_at_phone_and_desktop_width(site, new_page, path, request):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.callspec.id
    for label, (width, height) in VIEWPORTS.items():
        page = new_page(width, height)
        response = page.goto(site + path)
        assert response.status == 200
        # Nothing wider than the viewport: no sideways scrolling on a phone.
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{path} is {scroll_width}px wide at {width}px"
        target = SCREENSHOTS / f"{name}-{label}.png"
        target.unlink(missing_ok=True)
        page.screenshot(path=target, full_page=True)
        assert target.stat().st_size > 0, target
