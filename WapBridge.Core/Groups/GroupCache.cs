using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Groups;

/// <summary>
/// Keeps <see cref="CachedGroup"/> rows as WhatsApp last told: whole groups from what the engine answers, patches from
/// group events. Members are stored with phone and LID filled in from the persisted LID ↔ phone map where known.
/// </summary>
public sealed class GroupCache(IDbContextFactory<WapBridgeDbContext> dbFactory, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The groups WhatsApp listed replace the instance's cached ones; a cached group it no longer lists is marked left.</summary>
    public async Task<IReadOnlyList<GroupInfo>> ReplaceAllAsync(Instance instance, IReadOnlyList<EngineGroup> groups, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var map = await LidMapAsync(db, instance.Id, groups.SelectMany(g => g.Participants), ct);
        var rows = await db.CachedGroups.Where(g => g.InstanceId == instance.Id).ToListAsync(ct);
        var listed = groups.Select(g => Row(instance, map.Fill(g))).ToList();
        var now = time.GetUtcNow();
        foreach (var fresh in listed)
            Copy(fresh, rows.FirstOrDefault(r => r.GroupJid == fresh.GroupJid) ?? db.CachedGroups.Add(fresh).Entity, now);
        foreach (var gone in rows.Where(r => !r.Left && listed.All(l => l.GroupJid != r.GroupJid)))
            (gone.Left, gone.RefreshedAt) = (true, now);
        await SaveAsync(db, ct);
        return listed.OrderBy(g => g.Subject, StringComparer.CurrentCultureIgnoreCase).Select(g => InfoOf(g, instance.Code)).ToList();
    }

    /// <summary>Stores the group as WhatsApp answered it (the instance is in it) and answers it as the API shows it.</summary>
    public async Task<GroupInfo> UpsertAsync(Instance instance, EngineGroup group, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var map = await LidMapAsync(db, instance.Id, group.Participants, ct);
        var fresh = Row(instance, map.Fill(group));
        var row = await db.CachedGroups.SingleOrDefaultAsync(g => g.InstanceId == instance.Id && g.GroupJid == fresh.GroupJid, ct)
            ?? db.CachedGroups.Add(fresh).Entity;
        Copy(fresh, row, time.GetUtcNow());
        await SaveAsync(db, ct);
        return InfoOf(fresh, instance.Code);
    }

    /// <summary>Changes the cached row, if there is one; true when there was.</summary>
    public async Task<bool> PatchAsync(Instance instance, string groupJid, Action<CachedGroup> patch, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.CachedGroups.SingleOrDefaultAsync(g => g.InstanceId == instance.Id && g.GroupJid == groupJid, ct);
        if (row is null)
            return false;
        patch(row);
        row.RefreshedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return true;
    }

    public async Task MarkLeftAsync(int instanceId, string groupJid, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = time.GetUtcNow();
        await db.CachedGroups.Where(g => g.InstanceId == instanceId && g.GroupJid == groupJid)
            .ExecuteUpdateAsync(s => s.SetProperty(g => g.Left, true).SetProperty(g => g.RefreshedAt, now), ct);
    }

    /// <summary>
    /// Applies a participants event to the cached group: members added, removed, promoted or demoted; the instance left
    /// (or was removed) marks it left, added back unmarks it. False when the group is not cached.
    /// </summary>
    public async Task<bool> ApplyAsync(Instance instance, GroupParticipantsEvent e, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.CachedGroups.SingleOrDefaultAsync(g => g.InstanceId == instance.Id && g.GroupJid == e.GroupJid, ct);
        if (row is null)
            return false;
        var map = await LidMapAsync(db, instance.Id, e.Participants.Append(new EngineGroupParticipant(instance.PhoneNumber, null, null)), ct);
        var ownLid = instance.PhoneNumber is { } ownPhone ? map.LidOf(ownPhone) : null;
        var members = ParticipantsOf(row).ToList();
        var affected = e.Participants.Select(map.Fill).ToList();
        var ours = affected.Any(p => IsSelf(p, instance.PhoneNumber, ownLid));
        switch (e.Action)
        {
            case GroupParticipantActions.Add:
                members.AddRange(affected.Where(p => !members.Any(m => Same(m, p))).Select(p => p with { Admin = null }));
                if (ours)
                    row.Left = false;
                break;
            case GroupParticipantActions.Remove or "leave":
                members.RemoveAll(m => affected.Any(p => Same(m, p)));
                if (ours)
                    row.Left = true;
                break;
            case GroupParticipantActions.Promote or GroupParticipantActions.Demote:
                var role = e.Action == GroupParticipantActions.Promote ? GroupRoles.Admin : null;
                members = members.Select(m => affected.Any(p => Same(m, p)) && m.Admin != GroupRoles.SuperAdmin ? m with { Admin = role } : m).ToList();
                if (ours && row.OurRole != GroupRoles.SuperAdmin)
                    row.OurRole = role;
                break;
            default:
                return true;
        }
        row.ParticipantsJson = JsonSerializer.Serialize(members, Json);
        row.Size = members.Count;
        row.RefreshedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return true;
    }

    /// <summary>What <c>groups.update_group</c> or a <see cref="GroupUpdateEvent"/> changed, on the cached row.</summary>
    public static void Apply(CachedGroup row, EngineGroupChange change)
    {
        if (change.Subject is not null)
            row.Subject = change.Subject.Length > GroupDirectory.MaxSubjectLength ? change.Subject[..GroupDirectory.MaxSubjectLength] : change.Subject;
        if (change.Description is not null)
            row.Description = change.Description.Length == 0 ? null
                : change.Description.Length > GroupDirectory.MaxDescriptionLength ? change.Description[..GroupDirectory.MaxDescriptionLength] : change.Description;
        if (change.Announce is { } announce)
            row.Announce = announce;
        if (change.Restrict is { } restrict)
            row.Restrict = restrict;
    }

    public static GroupInfo InfoOf(CachedGroup row, string instanceCode) => new(row.GroupJid, row.Subject, row.Description, row.Owner,
        ParticipantsOf(row).Select(p => new GroupMember(p.Phone, p.Lid is null ? null : p.Lid + "@lid", p.Admin)).ToList(),
        row.Announce, row.Restrict, row.Size, row.OurRole, instanceCode);

    /// <summary>The row for a group as the engine answered it (not yet stored).</summary>
    public static CachedGroup Row(Instance instance, EngineGroup group)
    {
        var own = group.Participants.FirstOrDefault(p => p.Phone is not null && p.Phone == instance.PhoneNumber);
        return new CachedGroup
        {
            InstanceId = instance.Id,
            GroupJid = group.GroupJid,
            Subject = Clip(group.Subject, GroupDirectory.MaxSubjectLength) ?? "",
            Description = Clip(group.Description, GroupDirectory.MaxDescriptionLength),
            Owner = group.OwnerPhone ?? (group.OwnerLid is null ? null : group.OwnerLid + "@lid"),
            ParticipantsJson = JsonSerializer.Serialize(group.Participants, Json),
            Size = group.Participants.Count,
            OurRole = own?.Admin,
            Announce = group.Announce,
            Restrict = group.Restrict,
        };
    }

    public static IReadOnlyList<EngineGroupParticipant> ParticipantsOf(CachedGroup row) =>
        JsonSerializer.Deserialize<List<EngineGroupParticipant>>(row.ParticipantsJson, Json) ?? [];

    /// <summary>The LID ↔ phone pairs the instance knows for these participants.</summary>
    public static async Task<LidMap> LidMapAsync(WapBridgeDbContext db, int instanceId, IEnumerable<EngineGroupParticipant> participants, CancellationToken ct)
    {
        var list = participants.ToList();
        var phones = list.Select(p => p.Phone).OfType<string>().Distinct().ToList();
        var lids = list.Select(p => p.Lid).OfType<string>().Distinct().ToList();
        if (phones.Count == 0 && lids.Count == 0)
            return new LidMap([]);
        var pairs = new List<(string Lid, string Phone)>();
        // Chunked: a big group has many members, and both databases limit a query's parameters.
        foreach (var chunk in phones.Chunk(500))
            pairs.AddRange((await db.LidMappings.AsNoTracking().Where(m => m.InstanceId == instanceId && chunk.Contains(m.PhoneNumber))
                .Select(m => new { m.Lid, m.PhoneNumber }).ToListAsync(ct)).Select(m => (m.Lid, m.PhoneNumber)));
        foreach (var chunk in lids.Chunk(500))
            pairs.AddRange((await db.LidMappings.AsNoTracking().Where(m => m.InstanceId == instanceId && chunk.Contains(m.Lid))
                .Select(m => new { m.Lid, m.PhoneNumber }).ToListAsync(ct)).Select(m => (m.Lid, m.PhoneNumber)));
        return new LidMap(pairs);
    }

    private static bool Same(EngineGroupParticipant a, EngineGroupParticipant b) =>
        (a.Phone is not null && a.Phone == b.Phone) || (a.Lid is not null && a.Lid == b.Lid);

    private static bool IsSelf(EngineGroupParticipant p, string? ownPhone, string? ownLid) =>
        (ownPhone is not null && p.Phone == ownPhone) || (ownLid is not null && p.Lid == ownLid);

    private static void Copy(CachedGroup from, CachedGroup to, DateTimeOffset now)
    {
        to.Subject = from.Subject;
        to.Description = from.Description;
        to.Owner = from.Owner;
        to.ParticipantsJson = from.ParticipantsJson;
        to.Size = from.Size;
        to.OurRole = from.OurRole;
        to.Announce = from.Announce;
        to.Restrict = from.Restrict;
        to.Left = false;
        to.RefreshedAt = now;
    }

    private static async Task SaveAsync(WapBridgeDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException)
        {
            // Another call cached the same group at the same moment: what it stored is as fresh as ours.
        }
    }

    private static string? Clip(string? text, int length) => text is null ? null : text.Length <= length ? text : text[..length];
}

/// <summary>LID ↔ phone pairs of one instance, to fill in the half of a member WhatsApp left out.</summary>
public sealed class LidMap
{
    private readonly Dictionary<string, string> _phoneByLid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _lidByPhone = new(StringComparer.Ordinal);

    public LidMap(IEnumerable<(string Lid, string Phone)> pairs)
    {
        foreach (var (lid, phone) in pairs)
        {
            _phoneByLid[lid] = phone;
            _lidByPhone[phone] = lid;
        }
    }

    public string? LidOf(string phone) => _lidByPhone.GetValueOrDefault(phone);

    public string? PhoneOf(string lid) => _phoneByLid.GetValueOrDefault(lid);

    public EngineGroupParticipant Fill(EngineGroupParticipant p) =>
        p with { Phone = p.Phone ?? (p.Lid is null ? null : PhoneOf(p.Lid)), Lid = p.Lid ?? (p.Phone is null ? null : LidOf(p.Phone)) };

    public EngineGroup Fill(EngineGroup g) => g with
    {
        Participants = g.Participants.Select(Fill).ToList(),
        OwnerPhone = g.OwnerPhone ?? (g.OwnerLid is null ? null : PhoneOf(g.OwnerLid)),
    };
}
