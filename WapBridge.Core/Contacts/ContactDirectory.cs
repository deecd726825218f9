using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using WapBridge.Core.Common;
using WapBridge.Core.Engines;
using WapBridge.Core.Instances;
using WapBridge.Core.Messaging;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Contacts;

/// <summary>
/// One answer of <c>contacts.check_numbers</c>: <see cref="Number"/> is the normalized digits when <see cref="Valid"/>, else
/// the input as given, with <see cref="Error"/> saying why it is not a number (then <see cref="OnWhatsApp"/> is null).
/// <see cref="OnWhatsApp"/> null with <see cref="Valid"/>: the engine could not tell. (The API's snake_case would split "WhatsApp".)
/// </summary>
public sealed record NumberCheckAnswer(string Number, bool Valid, [property: JsonPropertyName("on_whatsapp")] bool? OnWhatsApp, string? Jid, string? Lid, string? Error);

/// <summary>
/// A WhatsApp user's profile (<c>contacts.get_profile</c>): <see cref="Number"/> is the phone digits, or the LID as asked
/// (<c>…@lid</c>) when its phone is unknown; <see cref="Lid"/> is <c>&lt;digits&gt;@lid</c> when known.
/// </summary>
public sealed record ContactProfile(string Number, string? Lid, string? PushName, string? About, string? PictureUrl);

/// <summary>
/// Contract §9 "Contacts": whether numbers are on WhatsApp (through the shared <see cref="NumberCheckCache"/>), profiles
/// (through the instance's actor, kept in memory for <see cref="ProfileLifetime"/>) and the persisted LID ↔ phone map.
/// </summary>
public sealed class ContactDirectory(
    IDbContextFactory<WapBridgeDbContext> dbFactory,
    MessageService messages,
    NumberCheckCache numberChecks,
    IGrainFactory grains,
    TimeProvider time) : IDisposable
{
    public const int MaxNumbersPerCall = 500;

    /// <summary>How long a profile is answered from memory: WhatsApp's picture links expire, so not for long.</summary>
    public static readonly TimeSpan ProfileLifetime = TimeSpan.FromHours(1);

    private const string LidSuffix = "@lid";

    // Bounded so that looking up many users cannot grow memory without end; freshness is judged with TimeProvider.
    private readonly MemoryCache _profiles = new(new MemoryCacheOptions { SizeLimit = 10_000 });

    public async Task<IReadOnlyList<NumberCheckAnswer>> CheckNumbersAsync(int customerId, string? instanceCode, string? fromNumber,
        IReadOnlyList<string?> numbers, CancellationToken ct = default)
    {
        if (numbers is null || numbers.Count == 0)
            throw WapBridgeException.Missing("numbers");
        if (numbers.Count > MaxNumbersPerCall)
            throw WapBridgeException.Invalid("numbers", "too_many_numbers",
                $"numbers has {numbers.Count} entries; check at most {MaxNumbersPerCall} a call and split the rest into further calls");
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);

        var normalized = new string?[numbers.Count];
        var errors = new string?[numbers.Count];
        for (var i = 0; i < numbers.Count; i++)
        {
            try
            {
                normalized[i] = WhatsAppNumbers.Normalize(numbers[i], "numbers", instance.DefaultCountry);
            }
            catch (WapBridgeException e)
            {
                errors[i] = string.IsNullOrWhiteSpace(numbers[i]) ? "is empty; give a phone number such as 255755123456" : e.Message;
            }
        }

        var valid = normalized.OfType<string>().ToList();
        var grain = grains.GetGrain<IInstanceGrain>(instance.Code);
        var answers = await numberChecks.CheckAsync(instance.Id, valid, async (phones, _) => await grain.CheckNumbersAsync(phones), ct);
        var result = new List<NumberCheckAnswer>(numbers.Count);
        for (var i = 0; i < numbers.Count; i++)
        {
            if (normalized[i] is not { } number)
            {
                result.Add(new NumberCheckAnswer(numbers[i] ?? "", false, null, null, null, errors[i]));
                continue;
            }
            var answer = answers.GetValueOrDefault(number);
            result.Add(new NumberCheckAnswer(number, true, answer?.OnWhatsApp, answer?.Jid,
                NumberCheckCache.LidUser(answer?.Lid) is { } lid ? lid + LidSuffix : null, null));
        }
        return result;
    }

    public async Task<ContactProfile> GetProfileAsync(int customerId, string? instanceCode, string? fromNumber, string? number, CancellationToken ct = default)
    {
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);
        var askedLid = ParseLid(number, "number", required: false);
        var phone = askedLid is null ? WhatsAppNumbers.Normalize(number, "number", instance.DefaultCountry) : null;
        var key = (instance.Id, askedLid is null ? phone! : askedLid + LidSuffix);
        var now = time.GetUtcNow();
        if (_profiles.TryGetValue(key, out CachedProfile? cached) && cached!.FetchedAt > now - ProfileLifetime)
            return cached.Profile;

        var engine = await grains.GetGrain<IInstanceGrain>(instance.Code).GetProfileAsync(askedLid is null ? phone! : askedLid + LidSuffix);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var knownPhone = phone ?? DigitsOrNull(engine.Phone);
        var knownLid = askedLid ?? NumberCheckCache.LidUser(engine.Lid);
        if (knownLid is null && knownPhone is not null)
            knownLid = await db.LidMappings.AsNoTracking().Where(m => m.InstanceId == instance.Id && m.PhoneNumber == knownPhone)
                .OrderByDescending(m => m.LearnedAt).Select(m => m.Lid).FirstOrDefaultAsync(ct);
        if (knownPhone is null && knownLid is not null)
            knownPhone = await PhoneOfAsync(db, instance.Id, knownLid, ct);
        var profile = new ContactProfile(knownPhone ?? knownLid + LidSuffix, knownLid is null ? null : knownLid + LidSuffix,
            engine.PushName, engine.About, engine.PictureUrl);
        _profiles.Set(key, new CachedProfile(profile, now), new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = ProfileLifetime });
        return profile;
    }

    /// <summary>The phone of a LID from the persisted map only (no engine call); <c>Number</c> null when never learned.</summary>
    public async Task<(string Lid, string? Number)> ResolveLidAsync(int customerId, string? instanceCode, string? fromNumber, string? lid, CancellationToken ct = default)
    {
        var user = ParseLid(lid, "lid", required: true)!;
        var instance = await messages.ResolveInstanceAsync(customerId, instanceCode, fromNumber, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return (user + LidSuffix, await PhoneOfAsync(db, instance.Id, user, ct));
    }

    public void Dispose() => _profiles.Dispose();

    private static Task<string?> PhoneOfAsync(WapBridgeDbContext db, int instanceId, string lidUser, CancellationToken ct) =>
        db.LidMappings.AsNoTracking().Where(m => m.InstanceId == instanceId && m.Lid == lidUser).Select(m => m.PhoneNumber).FirstOrDefaultAsync(ct);

    /// <summary>
    /// The LID user part of <c>&lt;digits&gt;@lid</c> (or bare digits when <paramref name="required"/>: the field can only be a LID);
    /// null for anything else when not required.
    /// </summary>
    private static string? ParseLid(string? input, string field, bool required)
    {
        if (string.IsNullOrWhiteSpace(input))
            throw WapBridgeException.Missing(field);
        var text = input.Trim();
        var isLid = text.EndsWith(LidSuffix, StringComparison.OrdinalIgnoreCase);
        if (!isLid && !required)
            return null;
        var user = isLid ? text[..^LidSuffix.Length] : text;
        return user.Length is > 0 and <= 32 && user.All(char.IsAsciiDigit)
            ? user
            : throw WapBridgeException.Invalid(field, "invalid_lid",
                $"{field} is not a LID: '{input}'; write it as WhatsApp does, e.g. 120542636048510@lid");
    }

    private static string? DigitsOrNull(string? phone) => phone is { Length: > 0 } && phone.All(char.IsAsciiDigit) ? phone : null;

    private sealed record CachedProfile(ContactProfile Profile, DateTimeOffset FetchedAt);
}
