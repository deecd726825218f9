using System.Text.RegularExpressions;
using WapBridge.Core.Common;

namespace WapBridge.Web.Components.Shared;

/// <summary>
/// Services name API arguments in their errors (<c>to_number is required</c>), which is right for the API; a dashboard
/// form says the same with the labels its user sees (<c>Phone number is required</c>). The service messages stay as they are.
/// </summary>
public static partial class DashboardErrors
{
    /// <summary>The error's message with each API argument name in <paramref name="labels"/> replaced by its label.</summary>
    public static string Describe(WapBridgeException error, IReadOnlyDictionary<string, string> labels) => Relabel(error.Message, labels);

    public static string Relabel(string message, IReadOnlyDictionary<string, string> labels)
    {
        // Longest names first: throttle.max_delay_seconds before max_delay_seconds.
        foreach (var (name, label) in labels.OrderByDescending(p => p.Key.Length))
            message = Regex.Replace(message, $@"(?<![\w.]){Regex.Escape(name)}(?![\w.])", label.Replace("$", "$$"));
        return Capitalised(message);
    }

    /// <summary>
    /// The instance cannot reach WhatsApp now: it has no session (<c>instance_not_connected</c>), or its session has not
    /// connected yet (the engine's <c>not_connected</c>). Either way the user's fix is the same: connect it.
    /// </summary>
    public static bool IsNotConnected(WapBridgeException error) =>
        error.Kind == ErrorKind.InstanceNotConnected || error.Code is "not_connected" or "instance_not_connected";

    private static string Capitalised(string text) => text.Length > 0 && char.IsLower(text[0]) ? char.ToUpperInvariant(text[0]) + text[1..] : text;
}
