using System.Collections;

namespace WapBridge.Web.Hosting;

/// <summary>
/// Maps <c>WAPBRIDGE_*</c> environment variables onto the <c>WapBridge</c> configuration section:
/// <c>WAPBRIDGE_Engines__Simulator__Enabled</c> is <c>WapBridge:Engines:Simulator:Enabled</c>;
/// <c>WAPBRIDGE_DATA_DIR</c> and <c>WAPBRIDGE_ADMIN_TOKEN</c> are the documented short forms of
/// <c>WapBridge:DataDir</c> and <c>WapBridge:AdminToken</c>.
/// </summary>
public static class WapBridgeEnvironmentVariables
{
    private const string Prefix = "WAPBRIDGE_";

    /// <param name="variables">The process environment unless given (tests pass their own, leaving the process's alone).</param>
    public static IConfigurationBuilder AddWapBridgeEnvironmentVariables(this IConfigurationBuilder builder, IDictionary? variables = null)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in variables ?? Environment.GetEnvironmentVariables())
        {
            var name = (string)entry.Key;
            if (name.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
                values[ToConfigurationKey(name[Prefix.Length..])] = (string?)entry.Value;
        }
        return builder.AddInMemoryCollection(values);
    }

    internal static string ToConfigurationKey(string suffix) => suffix.ToUpperInvariant() switch
    {
        "DATA_DIR" => "WapBridge:DataDir",
        "ADMIN_TOKEN" => "WapBridge:AdminToken",
        _ => "WapBridge:" + suffix.Replace("__", ":", StringComparison.Ordinal),
    };
}
