using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace WapBridge.Web.Api.Frappe;

/// <summary>An argument the method cannot do without; every other argument is optional in the OpenAPI document.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class FrappeRequiredAttribute : Attribute;

/// <summary>
/// How the OpenAPI document (and the reference page built on it) describes the Frappe methods: which arguments are
/// required, the <c>token</c> security scheme of contract §1, query parameters for GET and a body for POST, and a
/// realistic example for each method, so that "Test request" on the reference page sends a call that works.
/// </summary>
public static class FrappeOpenApi
{
    public const string TokenScheme = "token";

    /// <summary>
    /// Added to the head of Scalar's reference page, whose template and theme fall short of WCAG AA: its page has no
    /// language, its grey and green texts are below 4.5:1, and its header input is a combobox without
    /// <c>aria-expanded</c>. The page's CSP allows inline code (Scalar starts itself with an inline module).
    /// </summary>
    public const string AccessibleReferenceHead = """
        <style>
          .light-mode { --scalar-color-3: #666666; --scalar-color-green: #0a7245; }
          .dark-mode { --scalar-color-3: #a8a8a8; --scalar-color-green: #3fd08f; }
        </style>
        <script>
          document.documentElement.lang = 'en';
          new MutationObserver(() => document.querySelectorAll('[role=combobox]:not([aria-expanded])')
            .forEach(box => box.setAttribute('aria-expanded', 'false')))
            .observe(document.documentElement, { childList: true, subtree: true });
        </script>
        """;

    /// <summary>
    /// Example values by argument name: ids in their real shapes, numbers valid for their country, readable texts.
    /// <c>Shown</c> ones appear in every method's example that takes them; the rest (alternatives such as
    /// <c>from_number</c> next to <c>instance_id</c>, filters, media) only where the method requires them.
    /// </summary>
    private static readonly Dictionary<string, (Func<JsonNode> Value, bool Shown)> Examples = new(StringComparer.Ordinal)
    {
        ["instance_id"] = (() => "INST-01-0000001", true),
        ["to_number"] = (() => "255755123456", true),
        // Where to_number is taken, instance_id names the sender; otherwise (a simulated inbound message) this is the sender.
        ["from_number"] = (() => "255757111111", true),
        ["message"] = (() => "Habari Asha, your order #1042 is ready for pickup.", true),
        ["id"] = (() => "true_255755123456@c.us_3EB0A1B2C3D4E5F60718", true),
        ["campaign"] = (() => "WAP-CAM-0001", false),
        ["campaign_name"] = (() => "December price list", true),
        ["recipients"] = (() => new JsonArray("255757111111", new JsonObject { ["phone_number"] = "0757 222222", ["name"] = "Baraka" }), true),
        // Only send_presence requires it; campaign_recipients' filter is shown nowhere.
        ["state"] = (() => "composing", false),
        ["status"] = (() => "delivered", false),
        ["direction"] = (() => "outbound", false),
        ["number"] = (() => "0755123456", false),
        ["limit"] = (() => 20, true),
        ["offset"] = (() => 0, false),
        ["wait"] = (() => 15, false),
        ["caption"] = (() => "Invoice INV-2026-0042", false),
        ["mime_type"] = (() => "application/pdf", false),
        ["filename"] = (() => "INV-2026-0042.pdf", false),
        ["scheduled_at"] = (() => "2026-12-24T08:00:00+03:00", false),
        ["url"] = (() => "https://erp.example.com/api/method/whatsapp_hook", true),
        ["events"] = (() => new JsonArray("message", "message.ack"), true),
        ["delivery"] = (() => 1042, true),
        ["customer"] = (() => "CUST-0001", true),
        ["name"] = (() => "Duka la Asha", true),
        ["email"] = (() => "asha@example.com", true),
        ["label"] = (() => "ERPNext production", true),
        ["engine"] = (() => "simulator", true),
        ["default_country"] = (() => "TZ", true),
        ["phone_number"] = (() => "255757111111", true),
        // send_template requires them; a template campaign's optional ones are shown nowhere.
        ["template"] = (() => "order_update", false),
        ["language"] = (() => "en", false),
        ["push_name"] = (() => "Asha", false),
        ["messages"] = (() => new JsonArray(new JsonObject { ["from_number"] = "255755123456", ["message"] = "Habari, is my order ready?" }), true),
        // Contract §9's conversation sends.
        ["emoji"] = (() => "👍", true),
        ["latitude"] = (() => -6.8161, true),
        ["longitude"] = (() => 39.2804, true),
        ["address"] = (() => "Samora Avenue, Dar es Salaam", false),
        ["contacts"] = (() => new JsonArray(new JsonObject { ["name"] = "Asha Juma", ["number"] = "255755123456" }), true),
        ["question"] = (() => "Which delivery day suits you?", true),
        ["options"] = (() => new JsonArray("Monday", "Wednesday", "Friday"), true),
        ["chat"] = (() => "255755123456", false),
        ["quoted_id"] = (() => "false_255755123456@c.us_3EB0A1B2C3D4E5F60718", false),
        ["mentions"] = (() => new JsonArray("255755123456"), false),
        // Contract §9's contacts and groups.
        ["numbers"] = (() => new JsonArray("+255755123456", "0757 222222"), true),
        ["lid"] = (() => "120542636048510@lid", true),
        ["group_id"] = (() => "120363041234567890@g.us", true),
        ["subject"] = (() => "Duka team", true),
        ["participants"] = (() => new JsonArray("255755123456", "255757222222"), true),
        ["action"] = (() => "add", true),
        ["link"] = (() => "https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", true),
    };

    /// <summary>The arguments a method's record marks required, for its schema.</summary>
    public static Task DescribeArguments(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken ct)
    {
        if (context.JsonPropertyInfo is null && FrappeBinder.DescribedShape(context.JsonTypeInfo.Type) is { } shape)
            schema.Required = new HashSet<string>(shape.Required, StringComparer.Ordinal);
        return Task.CompletedTask;
    }

    /// <summary>Declares the <c>token</c> scheme (and Basic, which contract §1 also accepts) and applies it to every method.</summary>
    public static Task DescribeSecurity(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken ct)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[TokenScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = "Authorization",
            Description = "The whole header value: `token <api_key>:<api_secret>` (Frappe's form), e.g. `token 0a1b2c3d4e5f607:<secret>`. "
                + "`Bearer <api_key>:<api_secret>` is accepted too.",
        };
        document.Components.SecuritySchemes["basic"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "basic",
            Description = "HTTP Basic with the API key as user name and the API secret as password.",
        };
        foreach (var path in document.Paths.Values)
            foreach (var operation in path.Operations?.Values.AsEnumerable() ?? [])
                operation.Security =
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(TokenScheme, document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("basic", document)] = [] },
                ];
        return Task.CompletedTask;
    }

    /// <summary>A call that works as written: the required arguments and the usual ones, never a null.</summary>
    public static JsonObject Example(FrappeBinder.ArgumentsShape shape)
    {
        var example = new JsonObject();
        foreach (var name in shape.Names)
            if (Examples.TryGetValue(name, out var entry) && (entry.Shown || shape.Required.Contains(name))
                && !(name == "from_number" && shape.Names.Contains("to_number")))
                example[name] = entry.Value();
        return example;
    }

    /// <summary>A GET carries its arguments in the query string: one parameter per argument, lists and objects as JSON text.</summary>
    public static List<IOpenApiParameter> QueryParameters(IOpenApiSchema schema, FrappeBinder.ArgumentsShape shape, JsonObject example)
    {
        var parameters = new List<IOpenApiParameter>();
        foreach (var (name, property) in schema.Properties ?? new Dictionary<string, IOpenApiSchema>())
        {
            var complex = property.Type is { } type && (type.HasFlag(JsonSchemaType.Array) || type.HasFlag(JsonSchemaType.Object));
            parameters.Add(new OpenApiParameter
            {
                Name = name,
                In = ParameterLocation.Query,
                Required = shape.Required.Contains(name),
                Schema = complex ? new OpenApiSchema { Type = JsonSchemaType.String } : property,
                Description = complex ? "JSON text, e.g. " + example[name]?.ToJsonString() : property.Description,
                Example = example[name] is { } value ? (complex ? JsonValue.Create(value.ToJsonString()) : value.DeepClone()) : null,
            });
        }
        return parameters;
    }
}
