// Small helpers for the WapBridge dashboard, called through Blazor JS interop.
window.wapbridge = {
    // Copies text to the clipboard; resolves true on success, false when the browser refuses
    // (plain http off localhost, denied permission), so the caller can tell the user to copy by hand.
    copy: async function (text) {
        try {
            if (navigator.clipboard && window.isSecureContext) {
                await navigator.clipboard.writeText(text);
                return true;
            }
        } catch (e) {
            // fall through to the legacy path
        }
        try {
            const area = document.createElement("textarea");
            area.value = text;
            area.setAttribute("readonly", "");
            area.style.position = "fixed";
            area.style.opacity = "0";
            document.body.appendChild(area);
            area.select();
            const ok = document.execCommand("copy");
            document.body.removeChild(area);
            return ok;
        } catch (e) {
            return false;
        }
    }
};

// Saves text as a file through a temporary link (exports); the Blob URL is released once the click is handled.
window.wapbridge.download = function (filename, text, mimeType) {
    const blob = new Blob([text], { type: (mimeType || "text/plain") + ";charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
};

// Where focus was before a panel took it, so closing the panel hands it back (a keyboard user keeps their place).
window.wapbridge.rememberFocus = function () {
    window.wapbridge.focusBefore = document.activeElement;
};

window.wapbridge.restoreFocus = function () {
    const element = window.wapbridge.focusBefore;
    window.wapbridge.focusBefore = null;
    if (element && element.isConnected && typeof element.focus === "function")
        element.focus();
};

// Rows of a table marked data-keyboard-rows open their detail on click; they are tab stops too, and Enter or Space opens
// them, so the keyboard reaches what the mouse does. The "no records" row (one cell spanning the table) is left alone.
(function () {
    const selector = "[data-keyboard-rows] tbody tr:not([tabindex])";
    const mark = function () {
        document.querySelectorAll(selector).forEach(function (row) {
            if (!row.querySelector("td[colspan]"))
                row.tabIndex = 0;
        });
    };
    new MutationObserver(mark).observe(document.documentElement, { childList: true, subtree: true });
    document.addEventListener("keydown", function (e) {
        const row = e.target;
        if ((e.key === "Enter" || e.key === " ") && row instanceof HTMLTableRowElement && row.closest("[data-keyboard-rows]")) {
            e.preventDefault();
            row.click();
        }
    });
})();

// Remembers the dashboard theme for a year; the server reads it to render the next page in that theme from the start.
window.wapbridge.rememberTheme = function (name, value) {
    document.cookie = name + "=" + encodeURIComponent(value) + "; path=/; max-age=31536000; samesite=lax" + (location.protocol === "https:" ? "; secure" : "");
};

// The reconnect box's buttons (App.razor): retry the circuit, or reload when the server no longer knows it.
document.addEventListener("click", async function (event) {
    const button = event.target instanceof Element ? event.target.closest("[data-wb-reconnect]") : null;
    if (!button) return;
    if (button.getAttribute("data-wb-reconnect") === "reload") {
        location.reload();
        return;
    }
    try {
        if (!(await window.Blazor.reconnect())) location.reload();
    } catch (e) {
        // Still unreachable: the box stays in its failed state.
    }
});
