using System.Text.Json.Nodes;
using WapBridge.Core.Engines.CloudApi;

namespace WapBridge.Tests.Engines.CloudApi;

/// <summary>A template's variables and Graph's components that fill them, positional and named (Meta's <c>parameter_name</c>).</summary>
public sealed class TemplateParametersTests
{
    [Fact]
    public void Positional_variables_are_read_in_number_order_and_filled_in_that_order()
    {
        var variables = TemplateParameters.VariablesOf("Order {{2}} for {{1}} ships today; thanks {{1}}!");
        Assert.Equal(["1", "2"], variables);
        Assert.True(TemplateParameters.IsPositional(variables));

        var components = TemplateParameters.BodyComponents(variables, ["Asha", "A-17"])!;
        Assert.Equal("""[{"type":"body","parameters":[{"type":"text","text":"Asha"},{"type":"text","text":"A-17"}]}]""", components.ToJsonString());
        Assert.Equal("Order A-17 for Asha ships today; thanks Asha!", TemplateParameters.Render("Order {{2}} for {{1}} ships today; thanks {{1}}!", variables, ["Asha", "A-17"]));
    }

    [Fact]
    public void Named_variables_carry_their_parameter_name()
    {
        var variables = TemplateParameters.VariablesOf("Hi {{first_name}}, order {{ order_id }} is ready");
        Assert.Equal(["first_name", "order_id"], variables);
        Assert.False(TemplateParameters.IsPositional(variables));
        Assert.Equal(
            """[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Asha"},{"type":"text","parameter_name":"order_id","text":"7"}]}]""",
            TemplateParameters.BodyComponents(variables, ["Asha", "7"])!.ToJsonString());
    }

    [Fact]
    public void A_template_without_variables_has_no_components()
    {
        Assert.Empty(TemplateParameters.VariablesOf("Your order has shipped."));
        Assert.Null(TemplateParameters.BodyComponents([], []));
    }

    [Fact]
    public void Parameters_are_flattened_as_Meta_requires()
    {
        // Graph refuses a parameter with a line break, a tab or more than four spaces in a row.
        Assert.Equal("Invoice 12 is due. Pay by Friday.", TemplateParameters.Flatten("  Invoice 12 is due.\r\n\r\n\tPay     by Friday.\n"));
    }

    [Fact]
    public void A_recipient_fills_named_variables_by_name_and_positional_ones_by_number_or_in_order()
    {
        var named = TemplateParameters.ValuesFor(["first_name", "phone_number"], new JsonObject { ["First_Name"] = "Asha" }, "255755123456");
        Assert.Equal(["Asha", "255755123456"], named.Values);
        Assert.Empty(named.Missing);

        var byNumber = TemplateParameters.ValuesFor(["1", "2"], new JsonObject { ["2"] = "A-17", ["1"] = "Asha" }, "255755123456");
        Assert.Equal(["Asha", "A-17"], byNumber.Values);

        var inOrder = TemplateParameters.ValuesFor(["1", "2"], new JsonObject { ["name"] = "Asha", ["order"] = 17 }, "255755123456");
        Assert.Equal(["Asha", "17"], inOrder.Values);

        var lacking = TemplateParameters.ValuesFor(["first_name", "order_id"], new JsonObject { ["first_name"] = "Asha", ["order_id"] = " " }, "255755123456");
        Assert.Empty(lacking.Values);
        Assert.Equal(["order_id"], lacking.Missing);

        // The template could not be read: the recipient's values go in order.
        Assert.Equal(["Asha", "A-17"], TemplateParameters.ValuesFor(null, new JsonObject { ["name"] = "Asha", ["order"] = "A-17" }, "255755123456").Values);
    }
}
