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

// True while the page is on screen; live lists skip their refresh in background tabs.
window.wapbridge.isVisible = function () {
    return document.visibilityState !== "hidden";
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
