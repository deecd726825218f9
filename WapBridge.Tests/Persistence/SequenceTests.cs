using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Persistence;

/// <summary>
/// The public sequential ids (<c>INST-NN-NNNNNNN</c>, <c>CUST-0001</c>, …) come from named counters. Several nodes (or
/// requests) drawing a counter's very first number at once must each get their own, not a duplicate-key error.
/// </summary>
public abstract class SequenceTests(string provider)
{
    [Fact]
    public async Task Instances_created_at_once_on_a_fresh_database_each_get_their_own_number()
    {
        await using var app = new WapBridgeApp(provider);
        await app.InitializeAsync();
        app.SkipIfUnavailable();
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);

        var answers = await Task.WhenAll(Enumerable.Range(0, 12)
            .Select(_ => client.CallAsync("wap_bridge.api.instances.create_instance", new { engine = "simulator" })));

        Assert.All(answers, a => a.EnsureOk());
        var numbers = answers.Select(a => int.Parse(a.Message!["instance_id"]!.GetValue<string>()[^7..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(Enumerable.Range(1, 12), numbers.Order());
    }
}

public sealed class SqliteSequenceTests() : SequenceTests("sqlite");

public sealed class PostgresSequenceTests() : SequenceTests("postgres");
