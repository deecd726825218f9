using Microsoft.AspNetCore.Components;
using MudBlazor;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Core.Engines.Simulator;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class SimulatorTools
{
    [Inject] private SimulatedPhones Simulator { get; set; } = default!;

    private string? scanPhone;
    private string? scanPushName;
    private string? injectFrom;
    private string? injectText;
    private string? lastInjectedId;

    private Task SimulateScanAsync() => RunAsync(async () =>
    {
        var phone = WhatsAppNumbers.Normalize(scanPhone, "phone_number", Details.DefaultCountry);
        await Simulator.ScanAsync(InstanceId, phone, string.IsNullOrWhiteSpace(scanPushName) ? null : scanPushName.Trim());
        await OnRefresh.InvokeAsync();
    });

    private Task InjectAsync() => RunAsync(async () =>
    {
        var from = WhatsAppNumbers.Normalize(injectFrom, "from_number", Details.DefaultCountry);
        if (string.IsNullOrWhiteSpace(injectText))
            throw WapBridgeException.Missing("text");
        lastInjectedId = await Simulator.InjectInboundAsync(InstanceId, new SimulatedInbound(from, null, injectText.Trim()));
        injectText = null;
        Snackbar.Add("Inbound message injected", Severity.Success);
    });

    private Task DropConnectionAsync() => RunAsync(async () =>
    {
        await Simulator.DropConnectionAsync(InstanceId);
        await OnRefresh.InvokeAsync();
    });
}
