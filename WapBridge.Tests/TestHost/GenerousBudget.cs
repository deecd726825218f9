namespace WapBridge.Tests.TestHost;

/// <summary>
/// The new-contact budget every test host starts with: tests message many made-up numbers from instances paired a
/// moment ago, which a real number's warm-up (10 new contacts on its first day) would hold. Budget tests set their own.
/// </summary>
public static class GenerousBudget
{
    public const int NewContactsPerDay = 1_000_000;

    /// <summary>As configuration keys (a test's own settings override them).</summary>
    public static Dictionary<string, string?> Settings() => new()
    {
        ["WapBridge:Health:WarmUp:0"] = NewContactsPerDay.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["WapBridge:Health:WarmedUpDailyNewContacts"] = NewContactsPerDay.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The budget WapBridge ships, for the tests that show it (settings that replace the generous one).</summary>
    public static Dictionary<string, string?> Shipped()
    {
        var settings = Core.Health.HealthOptions.DefaultWarmUp
            .Select((n, day) => KeyValuePair.Create($"WapBridge:Health:WarmUp:{day}", (string?)n.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToDictionary();
        settings["WapBridge:Health:WarmedUpDailyNewContacts"] = new Core.Health.HealthOptions().WarmedUpDailyNewContacts.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return settings;
    }

    /// <summary>As the environment variables a gateway process reads.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Environment() =>
        Settings().Select(s => KeyValuePair.Create("WAPBRIDGE_" + s.Key["WapBridge:".Length..].Replace(":", "__", StringComparison.Ordinal), s.Value!));
}
