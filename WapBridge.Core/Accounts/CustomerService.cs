using System.Net.Mail;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using WapBridge.Core.Common;
using WapBridge.Core.Persistence;

namespace WapBridge.Core.Accounts;

public sealed record CustomerSummary(int Id, string Code, string Name, string Email, DateTimeOffset CreatedAt, int Users, int ActiveApiKeys,
    int? MaxInstances = null, int? MaxRecipientsPerCampaign = null, long? MaxMediaBytesPerMessage = null, bool AllowUnthrottledCampaigns = false);

public sealed class CustomerService(IDbContextFactory<WapBridgeDbContext> dbFactory, TimeProvider time, ILogger<CustomerService> logger)
{
    public Task<Customer> CreateAsync(string? name, string? email, CancellationToken ct = default) =>
        CreateAsync(name, email, QuotaArguments.None, ct);

    /// <summary>A new customer with the quotas an operator gave (the others follow the server's defaults).</summary>
    public async Task<Customer> CreateAsync(string? name, string? email, QuotaArguments quotas, CancellationToken ct)
    {
        name = name?.Trim();
        email = email?.Trim();
        if (string.IsNullOrEmpty(name)) throw WapBridgeException.Missing("name");
        ValidateName(name);
        if (string.IsNullOrEmpty(email)) throw WapBridgeException.Missing("email");
        ValidateEmail(email);
        var setQuotas = quotas.Parse();

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!quotas.Any)
            return await CreateAsync(db, name, email, ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var customer = await CreateAsync(db, name, email, ct);
        setQuotas(customer);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return customer;
    }

    /// <summary>Changes what is given (name, email, quotas, the unthrottled-campaign consent) of customer <paramref name="code"/>; the rest stays.</summary>
    public async Task<Customer> UpdateAsync(string? code, string? name, string? email, QuotaArguments quotas, CancellationToken ct = default,
        bool? allowUnthrottledCampaigns = null)
    {
        if (string.IsNullOrWhiteSpace(code)) throw WapBridgeException.Missing("customer");
        name = string.IsNullOrWhiteSpace(name) ? null : name.Trim();
        email = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        if (name is not null) ValidateName(name);
        if (email is not null) ValidateEmail(email);
        var setQuotas = quotas.Parse();

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var customer = await db.Customers.SingleOrDefaultAsync(c => c.Code == code.Trim().ToUpperInvariant(), ct)
            ?? throw WapBridgeException.NotFound("Customer", code.Trim(), "customer");
        if (name is not null) customer.Name = name;
        if (email is not null) customer.Email = email;
        setQuotas(customer);
        var unthrottledChanged = allowUnthrottledCampaigns is { } allow && allow != customer.AllowUnthrottledCampaigns;
        if (allowUnthrottledCampaigns is { } allowed)
            customer.AllowUnthrottledCampaigns = allowed;
        await db.SaveChangesAsync(ct);
        if (unthrottledChanged)
            logger.LogWarning("Customer {Customer} may {Allowed} run unthrottled campaigns on real WhatsApp numbers (set by an Admin)",
                customer.Code, customer.AllowUnthrottledCampaigns ? "now" : "no longer");
        logger.LogInformation("Customer {Customer} updated: quotas {MaxInstances} instances, {MaxRecipients} recipients per campaign, {MaxMediaBytes} media bytes per message (null: server default)",
            customer.Code, customer.MaxInstances, customer.MaxRecipientsPerCampaign, customer.MaxMediaBytesPerMessage);
        return customer;
    }

    private static void ValidateName(string name)
    {
        if (name.Length > 200) throw WapBridgeException.Invalid("name", "too_long", "name must be at most 200 characters");
    }

    private static void ValidateEmail(string email)
    {
        if (!IsEmail(email)) throw WapBridgeException.Invalid("email", "invalid_email", $"email '{email}' is not a valid e-mail address");
    }

    /// <summary>Creates the customer inside <paramref name="db"/>'s transaction, or a new one.</summary>
    public async Task<Customer> CreateAsync(WapBridgeDbContext db, string name, string email, CancellationToken ct)
    {
        var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        try
        {
            var customer = new Customer
            {
                Code = Customer.FormatCode(await SequenceGenerator.NextAsync(db, "customer", ct)),
                Name = name,
                Email = email,
                CreatedAt = time.GetUtcNow(),
            };
            db.Customers.Add(customer);
            await db.SaveChangesAsync(ct);
            if (own is not null) await own.CommitAsync(ct);
            logger.LogInformation("Customer {Customer} '{Name}' created", customer.Code, name);
            return customer;
        }
        finally
        {
            if (own is not null) await own.DisposeAsync();
        }
    }

    public async Task<Customer?> FindByCodeAsync(string code, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Customers.AsNoTracking().SingleOrDefaultAsync(c => c.Code == code, ct);
    }

    public async Task<(IReadOnlyList<CustomerSummary> Items, int Total)> ListAsync(int limit, int offset, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var total = await db.Customers.CountAsync(ct);
        var items = await db.Customers.AsNoTracking().OrderBy(c => c.Id).Skip(offset).Take(limit)
            .Select(c => new CustomerSummary(c.Id, c.Code, c.Name, c.Email, c.CreatedAt,
                db.Users.Count(u => u.CustomerId == c.Id),
                db.ApiKeys.Count(k => k.CustomerId == c.Id && k.RevokedAt == null),
                c.MaxInstances, c.MaxRecipientsPerCampaign, c.MaxMediaBytesPerMessage, c.AllowUnthrottledCampaigns))
            .ToListAsync(ct);
        return (items, total);
    }

    internal static bool IsEmail(string value) =>
        MailAddress.TryCreate(value, out var address) && address.Address == value && value.Contains('.', StringComparison.Ordinal);
}
