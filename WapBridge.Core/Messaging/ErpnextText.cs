using System.Net;
using System.Text.RegularExpressions;

namespace WapBridge.Core.Messaging;

/// <summary>ERPNext notification bodies are HTML: WhatsApp wants plain text with its line breaks.</summary>
public static partial class ErpnextText
{
    public static string ToPlainText(string html)
    {
        var text = LineBreaks().Replace(html, "\n");
        text = Tags().Replace(text, "");
        text = WebUtility.HtmlDecode(text).Replace("\r\n", "\n").Replace('\u00A0', ' ');
        text = BlankRuns().Replace(text, "\n\n");
        return text.Trim();
    }

    [GeneratedRegex(@"<\s*br\s*/?\s*>|<\s*/\s*(p|div|li|tr|h[1-6])\s*>", RegexOptions.IgnoreCase)]
    private static partial Regex LineBreaks();

    [GeneratedRegex(@"<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\n[ \t]*\n(\s*\n)+")]
    private static partial Regex BlankRuns();
}
