using WapBridge.Core.Common;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;

namespace WapBridge.Core.Engines.CloudApi;

/// <summary>
/// A chat's customer-service window as the Chats page shows it: <see cref="OpenUntil"/> null when closed (the contact has not
/// written in the last 24 hours, or never), so only templates reach the contact; free-form texts then go out as the
/// instance's <see cref="FallbackTemplate"/> when it has one.
/// </summary>
public sealed record ChatWindow(DateTimeOffset? OpenUntil, string? FallbackTemplate)
{
    public bool IsOpen => OpenUntil is not null;
}

/// <summary>
/// The dashboard's reads of Cloud API instances, each scoped to one customer like <see cref="InstanceService"/>: the account's
/// templates as Graph lists them now, and a chat's 24-hour window. Components inject this instead of calling grains or the database.
/// </summary>
public sealed class CloudApiDashboard(InstanceService instances, EngineRegistry engines, ServiceWindowStore windows, TemplateService templates)
{
    /// <summary>
    /// Every template of the instance's business account (any status), from Graph through the instance's live session
    /// (<see cref="TemplateService"/>). An instance not connected to Graph, or a token Meta refused, is told in the words of
    /// a Cloud API instance (no QR code to scan; the fix is a new token), never as an empty list.
    /// </summary>
    public async Task<IReadOnlyList<EngineTemplate>> ListTemplatesAsync(int customerId, string instanceCode, CancellationToken ct = default)
    {
        try
        {
            return await templates.ListAsync(customerId, instanceCode, ct);
        }
        catch (WapBridgeException e) when (e.Kind == ErrorKind.InstanceNotConnected)
        {
            var instance = await instances.GetAsync(customerId, instanceCode, ct);
            throw new WapBridgeException(ErrorKind.InstanceNotConnected, e.Code,
                $"Instance {instance.InstanceId} is not connected to Meta's Graph API right now (status {instance.Status.ToWire()}), so its templates cannot be read; "
                + "they show once it connects. Its last error says why: an access token Meta refused needs replacing.", "instance_id");
        }
        catch (WapBridgeException e) when (e.Code == GraphErrorCodes.AccessTokenInvalid)
        {
            throw new WapBridgeException(e.Kind, e.Code,
                $"Meta refused the instance's access token ({e.Message}), so its templates cannot be read: replace the access token.", "instance_id");
        }
    }

    /// <summary>
    /// The window of <paramref name="chat"/> on the instance; null when no window rule applies there (an engine without
    /// <see cref="EngineFeatures.ServiceWindow"/>, or a group).
    /// </summary>
    public async Task<ChatWindow?> ChatWindowAsync(int customerId, string instanceCode, string chat, CancellationToken ct = default)
    {
        if (WhatsAppNumbers.IsGroupId(chat))
            return null;
        var instance = await instances.FindAsync(customerId, instanceCode, ct);
        if (!engines.Supports(instance.Engine, EngineFeatures.ServiceWindow))
            return null;
        return new ChatWindow(await windows.OpenUntilAsync(instance.Id, chat, ct), instance.FallbackTemplate);
    }
}
