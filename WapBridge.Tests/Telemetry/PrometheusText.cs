using System.Globalization;
using System.Text;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Telemetry;

/// <summary>One sample line of a scrape: the Prometheus name (<c>wapbridge_outbox_depth</c>), its labels and value.</summary>
public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(params (string Key, string Value)[] labels) =>
        labels.All(l => Labels.TryGetValue(l.Key, out var value) && value == l.Value);

    public override string ToString() =>
        $"{Name}{{{string.Join(",", Labels.Select(l => $"{l.Key}=\"{l.Value}\""))}}} {Value.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// A parsed <c>/metrics</c> answer (Prometheus text format 0.0.4, as the OpenTelemetry exporter writes it), for tests
/// that assert instruments by name and labels. Names are the exported ones: <c>.</c> becomes <c>_</c>, the unit is
/// appended (<c>_seconds</c>, <c>_bytes</c>), counters end in <c>_total</c>, histograms have <c>_bucket</c>,
/// <c>_sum</c> and <c>_count</c> lines.
/// </summary>
public sealed class PrometheusText
{
    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>The <c># TYPE</c> of each metric family (<c>counter</c>, <c>gauge</c>, <c>histogram</c>, …).</summary>
    public IReadOnlyDictionary<string, string> Types { get; }

    public string Text { get; }

    private PrometheusText(string text, List<PrometheusSample> samples, Dictionary<string, string> types)
    {
        Text = text;
        Samples = samples;
        Types = types;
    }

    public static PrometheusText Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
                continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split(' ', 4, StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 4 && parts[1] == "TYPE")
                    types[parts[2]] = parts[3].Trim();
                continue;
            }
            samples.Add(ParseSample(line));
        }
        return new PrometheusText(text, samples, types);
    }

    /// <summary>Every sample of <paramref name="name"/> whose labels include <paramref name="labels"/> (others may be present too).</summary>
    public IReadOnlyList<PrometheusSample> Find(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && s.Has(labels)).ToList();

    /// <summary>
    /// The value of the one sample of <paramref name="name"/> with <paramref name="labels"/>; null when there is none,
    /// a failed assertion when several match (add labels to tell them apart, or use <see cref="Sum"/>).
    /// </summary>
    public double? Value(string name, params (string Key, string Value)[] labels)
    {
        var found = Find(name, labels);
        Assert.True(found.Count <= 1, $"{found.Count} samples match {name} {Describe(labels)}: {string.Join("; ", found)}");
        return found.Count == 0 ? null : found[0].Value;
    }

    /// <summary>The sum over every matching sample (0 when none), e.g. a counter over all reasons.</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) => Find(name, labels).Sum(s => s.Value);

    public bool Has(string name) => Samples.Any(s => s.Name == name);

    /// <summary>Scrapes <c>/metrics</c> of <paramref name="app"/> with the admin token (as Prometheus would) and parses it.</summary>
    public static async Task<PrometheusText> ScrapeAsync(WapBridgeApp app, CancellationToken ct = default)
    {
        using var client = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        using var response = await client.GetAsync("/metrics", ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, $"GET /metrics answered {(int)response.StatusCode}: {body}");
        return Parse(body);
    }

    /// <summary>
    /// Scrapes until <paramref name="done"/> holds (gauges read from the database change only with the next snapshot),
    /// failing with the last scrape's matching lines after <paramref name="timeout"/> (default 20 s).
    /// </summary>
    public static async Task<PrometheusText> ScrapeUntilAsync(WapBridgeApp app, Func<PrometheusText, bool> done, TimeSpan? timeout = null,
        string? describe = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            var scrape = await ScrapeAsync(app, TestContext.Current.CancellationToken);
            if (done(scrape))
                return scrape;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"/metrics never showed {describe ?? "the expected values"}; last scrape:\n"
                    + string.Join("\n", scrape.Samples.Where(s => s.Name.StartsWith("wapbridge_", StringComparison.Ordinal))));
            await Task.Delay(200, TestContext.Current.CancellationToken);
        }
    }

    private static string Describe((string Key, string Value)[] labels) => "{" + string.Join(",", labels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";

    private static PrometheusSample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
            i++;
        var name = line[..i];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && line[i] is ' ' or ',')
                    i++;
                if (i >= line.Length)
                    throw new FormatException($"unterminated labels: {line}");
                if (line[i] == '}')
                {
                    i++;
                    break;
                }
                var eq = line.IndexOf('=', i);
                if (eq < 0 || eq + 1 >= line.Length || line[eq + 1] != '"')
                    throw new FormatException($"a label without a quoted value: {line}");
                var key = line[i..eq].Trim();
                var value = new StringBuilder();
                i = eq + 2;
                for (; i < line.Length && line[i] != '"'; i++)
                {
                    if (line[i] == '\\' && i + 1 < line.Length)
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }
                }
                if (i >= line.Length)
                    throw new FormatException($"unterminated label value: {line}");
                i++;
                labels[key] = value.ToString();
            }
        }
        // The value, then an optional timestamp.
        var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length == 0)
            throw new FormatException($"a sample without a value: {line}");
        return new PrometheusSample(name, labels, ParseValue(rest[0]));
    }

    private static double ParseValue(string value) => value switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
