using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Web.Components.Pages.Campaigns;
using WapBridge.Web.Components.Shared;

namespace WapBridge.Tests.Dashboard;

/// <summary>Dashboard errors speak the form's labels; the service's (API) messages keep the argument names.</summary>
[Trait("Category", "Unit")]
public sealed class DashboardErrorsTests
{
    [Fact]
    public void Argument_names_become_the_labels_the_form_shows()
    {
        var missing = WapBridgeException.Missing("to_number");
        Assert.Equal("to_number is required", missing.Message);
        Assert.Equal("Phone number is required", DashboardErrors.Describe(missing, SendMessageDialog.Labels));

        var invalid = Assert.Throws<WapBridgeException>(() => WhatsAppNumbers.Normalize("12ab", "to_number", "TZ"));
        var shown = DashboardErrors.Describe(invalid, SendMessageDialog.Labels);
        Assert.StartsWith("Phone number is not a valid phone number", shown);
        Assert.DoesNotContain("to_number", shown);

        var throttle = WapBridgeException.Invalid("throttle.max_delay_seconds", "out_of_range", "throttle.max_delay_seconds must be at least min_delay_seconds");
        Assert.Equal("Max delay must be at least Min delay", DashboardErrors.Describe(throttle, NewCampaignForm.Labels));
        Assert.Equal("Recipients is empty", DashboardErrors.Describe(WapBridgeException.Invalid("recipients", "no_recipients", "recipients is empty"), NewCampaignForm.Labels));
    }

    [Fact]
    public void A_bad_row_in_a_recipient_list_names_its_line()
    {
        var rows = CampaignCsv.Parse("phone,name\n255755000001,Asha\n12ab,Juma\n");
        var draft = RecipientDraft.Build(rows, hasHeader: true, numberColumn: 0, "TZ", "Hi {{name}}");
        var bad = Assert.Single(draft.Recipients, r => r.Number is null);
        Assert.StartsWith("Recipients: line 3 is not a valid phone number", bad.Error);
        Assert.DoesNotContain("phone_number", bad.Error);
    }
}
