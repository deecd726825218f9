using Microsoft.AspNetCore.Components;
using WapBridge.Core.Common;
using WapBridge.Core.Messaging;
using WapBridge.Core.Instances;

namespace WapBridge.Web.Components.Pages.Instances;

public sealed partial class InstancePairing : IDisposable
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Inject] private InstanceService Instances { get; set; } = default!;
    [Inject] private TimeProvider Time { get; set; } = default!;

    private bool showPairingCode;
    private string? pairingPhone;
    private string? pairingCode;
    private ITimer? countdown;
    private string? shownFor;

    private bool IsPairing => Details.Status is InstanceState.Qr or InstanceState.Pairing;

    protected override void OnParametersSet()
    {
        if (View is null)
            return;
        if (!IsPairing || View.Details.InstanceId != shownFor)
        {
            // Paired, restarted, given up or another instance selected: a code shown now would be stale.
            showPairingCode = false;
            pairingCode = null;
            pairingPhone = null;
            shownFor = View.Details.InstanceId;
        }
    }

    protected override void OnInitialized()
    {
        // A clock, not a poll: it only redraws the seconds left on the code shown; a new code comes from the change feed.
        if (RendererInfo.IsInteractive)
            countdown = Time.CreateTimer(_ => _ = InvokeAsync(Tick), null, Second, Second);
    }

    private void Tick()
    {
        if (View?.Qr is not null)
            StateHasChanged();
    }

    private Task RequestPairingCodeAsync() => RunAsync(async () =>
    {
        // Read with the instance's default country, so a local number like 0755… works here too.
        var phone = WhatsAppNumbers.Normalize(pairingPhone, "phone_number", Details.DefaultCountry);
        pairingCode = await Instances.RequestPairingCodeAsync(CustomerId, InstanceId, "+" + phone);
        await OnRefresh.InvokeAsync();
    });

    private string Countdown(PendingQr pending)
    {
        var left = pending.ExpiresAt - Time.GetUtcNow();
        return left <= TimeSpan.Zero
            ? "This code has expired; a new one is on its way…"
            : $"Scan within {(int)Math.Ceiling(left.TotalSeconds)} s; the code then changes by itself.";
    }

    private static string FormatCode(string code) => code.Length == 8 ? code[..4] + "-" + code[4..] : code;

    public void Dispose() => countdown?.Dispose();
}
