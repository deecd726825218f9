using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using WapBridge.Core.Common;
using WapBridge.Web.Api.Frappe;

namespace WapBridge.Tests.Api;

/// <summary>How arguments from forms, query strings and JSON become typed arguments (contract §1).</summary>
[Trait("Category", "Unit")]
public sealed class ArgumentBindingTests
{
    public sealed record SampleArgs(string? ToNumber, int? Wait, bool? Enabled, List<string>? Recipients, JsonNode? Throttle);

    private static async Task<FrappeArgumentSet> ReadAsync(string? body, string? contentType, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.QueryString = new QueryString(query);
        context.Request.ContentType = contentType;
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body ?? ""));
        context.Request.ContentLength = body is null ? 0 : Encoding.UTF8.GetByteCount(body);
        return await FrappeArguments.ReadAsync(context.Request, FrappeReadOptions.Plain, CancellationToken.None);
    }

    [Fact]
    public async Task Form_lists_sent_as_json_strings_are_parsed()
    {
        var raw = await ReadAsync("recipients=%5B%22255757111111%22%2C%22255757222222%22%5D&wait=0&enabled=1", "application/x-www-form-urlencoded");
        var args = FrappeBinder.Bind<SampleArgs>(raw);

        Assert.Equal(["255757111111", "255757222222"], args.Recipients);
        Assert.Equal(0, args.Wait);
        Assert.True(args.Enabled);
    }

    [Fact]
    public async Task Repeated_form_keys_become_a_list()
    {
        var raw = await ReadAsync("recipients=255757111111&recipients=255757222222", "application/x-www-form-urlencoded");
        Assert.Equal(2, FrappeBinder.Bind<SampleArgs>(raw).Recipients!.Count);
    }

    [Fact]
    public async Task Comma_separated_list_in_a_query_string_is_split()
    {
        var raw = await ReadAsync(null, null, "?recipients=255757111111,%20255757222222");
        Assert.Equal(["255757111111", "255757222222"], FrappeBinder.Bind<SampleArgs>(raw).Recipients);
    }

    [Fact]
    public async Task Json_numbers_are_accepted_for_text_arguments()
    {
        var raw = await ReadAsync("{\"to_number\": 255755123456, \"wait\": \"5\"}", "application/json");
        var args = FrappeBinder.Bind<SampleArgs>(raw);

        Assert.Equal("255755123456", args.ToNumber);
        Assert.Equal(5, args.Wait);
    }

    [Fact]
    public async Task Objects_sent_as_json_strings_are_parsed()
    {
        var raw = await ReadAsync(null, null, "?throttle=" + Uri.EscapeDataString("{\"min_delay_seconds\": 2}"));
        Assert.Equal(2, FrappeBinder.Bind<SampleArgs>(raw).Throttle!["min_delay_seconds"]!.GetValue<int>());
    }

    [Fact]
    public async Task Body_without_content_type_is_sniffed()
    {
        Assert.Equal("1", FrappeBinder.Bind<SampleArgs>(await ReadAsync("{\"to_number\":\"1\"}", null)).ToNumber);
        Assert.Equal("2", FrappeBinder.Bind<SampleArgs>(await ReadAsync("to_number=2", "text/plain")).ToNumber);
    }

    [Fact]
    public async Task Json_array_body_is_rejected_naming_the_body()
    {
        var error = await Assert.ThrowsAsync<WapBridgeException>(() => ReadAsync("[1,2]", "application/json"));
        Assert.Equal("body", error.Field);
    }

    [Theory]
    [InlineData("wait=soon", "wait")]
    [InlineData("enabled=maybe", "enabled")]
    [InlineData("recipients=%5Bbroken", "recipients")]
    public async Task Bad_values_name_their_field(string form, string field)
    {
        var raw = await ReadAsync(form, "application/x-www-form-urlencoded");
        var error = Assert.Throws<WapBridgeException>(() => FrappeBinder.Bind<SampleArgs>(raw));
        Assert.Equal(field, error.Field);
        Assert.Equal(ErrorKind.Validation, error.Kind);
    }

    [Fact]
    public async Task Unknown_arguments_are_ignored()
    {
        var raw = await ReadAsync("{\"to_number\":\"1\",\"cmd\":\"frappe.client.get\"}", "application/json");
        Assert.Equal("1", FrappeBinder.Bind<SampleArgs>(raw).ToNumber);
    }
}
