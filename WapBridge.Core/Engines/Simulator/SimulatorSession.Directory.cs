using WapBridge.Core.Instances;

namespace WapBridge.Core.Engines.Simulator;

/// <summary>
/// The simulated account's contacts, profiles and groups (contract §9): numbers answer by the not-on-WhatsApp rule,
/// LIDs and profiles are derived from the customer and the number, groups live in the customer's world, and every
/// change is told to each member instance (the one acting included), as WhatsApp tells each member's devices.
/// </summary>
internal sealed partial class SimulatorSession
{
    public Task<NumberCheckResult?> CheckNumberAsync(string phone, CancellationToken ct = default) => Task.FromResult<NumberCheckResult?>(Check(phone));

    public Task<IReadOnlyList<NumberCheckResult?>> CheckNumbersAsync(IReadOnlyList<string> phones, CancellationToken ct = default)
    {
        EnsureConnected();
        return Task.FromResult<IReadOnlyList<NumberCheckResult?>>(phones.Select(Check).ToList());
    }

    private NumberCheckResult Check(string phone)
    {
        EnsureConnected();
        return IsNumber(phone) && network.IsOnWhatsApp(phone)
            ? new NumberCheckResult(true, phone + "@s.whatsapp.net", network.LidOf(CustomerId, phone))
            : new NumberCheckResult(false, null);
    }

    public async Task<EngineProfile> GetProfileAsync(string user, CancellationToken ct = default)
    {
        EnsureConnected();
        var phone = PhoneOfUser(user);
        if (phone is null || !network.IsOnWhatsApp(phone))
            throw new EngineNotFoundException("not_on_whatsapp", phone is null ? $"{user} is not a number or LID this account knows." : $"{phone} is not on WhatsApp.");
        // The customer's own instances show the push name they connected with; anyone else a stable made-up one.
        var pushName = phone == ConnectedPhone ? PushName
            : network.FindByPhone(CustomerId, phone) is { } instance ? instance.PushName
            : await network.Directory.ElsewhereAsync(CustomerId, phone) is { } elsewhere ? elsewhere.PushName
            : SimulatedIdentities.PushNameOf(CustomerId, phone);
        return new EngineProfile(phone, network.LidOf(CustomerId, phone), pushName, SimulatedIdentities.AboutOf(CustomerId, phone), null);
    }

    public async Task<IReadOnlyList<EngineGroup>> ListGroupsAsync(CancellationToken ct = default) =>
        Remember(await World.ListGroupsAsync(Me));

    public async Task<EngineGroup> GetGroupAsync(string groupJid, CancellationToken ct = default) =>
        Remember((await World.GetGroupAsync(Me, groupJid)).Unwrap());

    public async Task<EngineGroup> CreateGroupAsync(string subject, IReadOnlyList<string> participants, CancellationToken ct = default)
    {
        var phones = participants.Select(PhoneOfUser).OfType<string>().ToList();
        return Remember(await TellAsync(await World.CreateGroupAsync(Me, subject, phones), ct));
    }

    public async Task<IReadOnlyList<EngineParticipantOutcome>> UpdateParticipantsAsync(string groupJid, string action, IReadOnlyList<string> participants,
        CancellationToken ct = default)
    {
        if (!GroupParticipantActions.All.Contains(action))
            throw new EngineRefusedException("unknown_action", $"{action} is not a participant action; use one of {string.Join(", ", GroupParticipantActions.All)}.");
        var asked = participants.Select(p => new SimulatedParticipantRef(p, PhoneOfUser(p))).ToList();
        return await TellAsync(await World.UpdateParticipantsAsync(Me, groupJid, action, asked), ct);
    }

    public async Task UpdateGroupAsync(string groupJid, EngineGroupChange change, CancellationToken ct = default) =>
        await TellAsync(await World.UpdateGroupAsync(Me, groupJid, change), ct);

    public async Task<string> GetInviteCodeAsync(string groupJid, CancellationToken ct = default) => (await World.InviteCodeAsync(Me, groupJid, revoke: false)).Unwrap();

    public async Task<string> RevokeInviteCodeAsync(string groupJid, CancellationToken ct = default) => (await World.InviteCodeAsync(Me, groupJid, revoke: true)).Unwrap();

    public async Task<string> JoinGroupAsync(string inviteCode, CancellationToken ct = default) => await TellAsync(await World.JoinAsync(Me, inviteCode), ct);

    public async Task LeaveGroupAsync(string groupJid, CancellationToken ct = default) => await TellAsync(await World.LeaveAsync(Me, groupJid), ct);

    /// <summary>
    /// A simulated contact's message to the instance; in a group of this world, the customer's other member instances
    /// receive it too (same id), as every member's phone does.
    /// </summary>
    internal async Task<string> InjectAsync(SimulatedInbound inbound, CancellationToken ct)
    {
        var id = await ReceiveAsync(inbound, ct);
        if (inbound.GroupId is not { } groupJid || ConnectedPhone is not { } me)
            return id;
        var group = await World.GetGroupAsync(me, groupJid);
        if (group.ErrorCode is not null)
            return id;
        SimulatedInboundCall? call = null;
        foreach (var member in group.Value!.Participants)
            if (member.Phone is { } phone && phone != me && phone != inbound.FromPhone)
                await network.ReachAsync(CustomerId, phone, this, other => other.ReceiveAsync(inbound, ct, id),
                    async remote => await remote.DeliverAsync(call ??= await SimulatedInboundCall.FromAsync(inbound, ct, id)));
        return id;
    }

    private ISimulatedWorldGrain World => network.World(CustomerId);

    /// <summary>The account's own number; the session must be connected.</summary>
    private string Me => ConnectedPhone ?? throw new EngineSessionStateException("not_connected", "The simulator session is not connected.");

    /// <summary>Tells every member instance named by the answer what changed, then answers its value (or throws its refusal).</summary>
    private async Task<T> TellAsync<T>(SimulatedWorldAnswer<T> answer, CancellationToken ct)
    {
        var value = answer.Unwrap();
        foreach (var notice in answer.Notices)
            foreach (var phone in notice.To)
            {
                if (phone == ConnectedPhone)
                    await EmitNoticeAsync(notice, ct);
                else
                    await network.ReachAsync(CustomerId, phone, this, member => member.EmitNoticeAsync(notice, ct), remote => remote.GroupNoticeAsync(notice));
            }
        return value;
    }

    /// <summary>A change to one of the account's groups, as the engine reports it.</summary>
    internal async Task EmitNoticeAsync(SimulatedGroupNotice notice, CancellationToken ct)
    {
        var byLid = notice.ByPhone is null ? null : network.LidOf(CustomerId, notice.ByPhone);
        var now = Time.GetUtcNow();
        EngineEvent e = notice.Action is { } action
            ? new GroupParticipantsEvent(InstanceId, now, notice.GroupJid, action, notice.Participants ?? [], notice.ByPhone, byLid)
            : new GroupUpdateEvent(InstanceId, now, notice.GroupJid, notice.Change ?? new EngineGroupChange(), notice.ByPhone, byLid);
        await EmitAsync(e, ct);
    }

    private EngineGroup Remember(EngineGroup group)
    {
        foreach (var participant in group.Participants)
            if (participant.Phone is { } phone)
                network.LidOf(CustomerId, phone);
        return group;
    }

    private IReadOnlyList<EngineGroup> Remember(IReadOnlyList<EngineGroup> groups)
    {
        foreach (var group in groups)
            Remember(group);
        return groups;
    }

    /// <summary>The number a user stands for: digits, a WhatsApp user id, or a LID this world gave out; null otherwise.</summary>
    private string? PhoneOfUser(string user)
    {
        var at = user.IndexOf('@');
        var id = at < 0 ? user : user[..at];
        var domain = at < 0 ? null : user[(at + 1)..];
        if (!IsNumber(id))
            return null;
        return domain switch
        {
            null or "s.whatsapp.net" or "c.us" => id,
            "lid" => network.PhoneOfLid(CustomerId, id),
            _ => null,
        };
    }

    private static bool IsNumber(string text) => text.Length is > 0 and <= 20 && text.All(char.IsAsciiDigit);
}
