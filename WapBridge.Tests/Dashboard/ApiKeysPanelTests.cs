using System.Globalization;
using System.Security.Claims;
using Bunit;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using MudBlazor;
using MudBlazor.Services;
using WapBridge.Core.Accounts;
using WapBridge.Core.Persistence;
using WapBridge.Web.Components.Pages.Settings;
using WapBridge.Web.Components.Shared;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Dashboard;

/// <summary>The API keys panel on the real <see cref="ApiKeyService"/> and a real SQLite file.</summary>
public sealed class ApiKeysPanelTests : IAsyncLifetime
{
    private readonly BunitContext ctx = new();
    private readonly BunitAuthorizationContext auth;
    private readonly string dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", "panel-" + Guid.NewGuid().ToString("N"));

    public ApiKeysPanelTests()
    {
        ctx.Services.AddWapBridgeDatabase(new DatabaseOptions(), dataDir);
        ctx.Services.AddMemoryCache();
        ctx.Services.AddSingleton(TimeProvider.System);
        ctx.Services.AddLogging();
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton<ApiKeyService>();
        ctx.Services.AddSingleton<CustomerService>();
        auth = ctx.AddAuthorization();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        // As in a Blazor Server circuit; the panel enables its buttons only once interactive.
        ctx.SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private ApiKeyService ApiKeys => ctx.Services.GetRequiredService<ApiKeyService>();

    public async ValueTask InitializeAsync() =>
        await DatabaseMigrator.MigrateAsync(ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>(), NullLogger.Instance);

    public async ValueTask DisposeAsync()
    {
        await ctx.DisposeAsync();
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(dataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task Generating_a_key_shows_its_secret_once_and_lists_it()
    {
        var customer = await CreateCustomerAsync("Acme");
        LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-keys]"));
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=generate-key]").HasAttribute("disabled")));

        cut.Find("[data-testid=key-label] input").Input("CRM integration");
        cut.ClickOn("[data-testid=generate-key]");

        cut.WaitForAssertion(() => cut.Find("[data-testid=api-secret]"));
        var key = cut.Find("[data-testid=api-key]").TextContent.Trim();
        var secret = cut.Find("[data-testid=api-secret]").TextContent.Trim();
        Assert.Matches("^[0-9a-f]{15}$", key);
        Assert.Matches("^[0-9a-f]{40}$", secret);
        Assert.Equal($"Authorization: token {key}:{secret}", cut.Find("[data-testid=api-header]").TextContent.Trim());
        Assert.Contains("shown only once", cut.Find("[data-testid=shown-once]").TextContent);

        // The shown secret is the real one, for this customer.
        var caller = await ApiKeys.VerifyAsync(key, secret);
        Assert.NotNull(caller);
        Assert.Equal(customer.Id, caller.CustomerId);

        var row = cut.Find($"[data-testid=key-row][data-key='{key}']");
        Assert.Contains("CRM integration", row.TextContent);
        Assert.Contains("…" + secret[^4..], row.TextContent);
        Assert.Contains("never", row.TextContent);
        Assert.Equal("active", row.QuerySelector("[data-testid=key-status]")!.TextContent.Trim());

        // Dismissed, the secret is gone from the page, and a fresh visit never shows it.
        cut.ClickOn("[data-testid=dismiss-secret]");
        Assert.Empty(cut.FindAll("[data-testid=api-secret]"));
        Assert.DoesNotContain(secret, cut.Markup);

        await ctx.DisposeComponentsAsync();
        var again = RenderPanel();
        again.WaitForAssertion(() => again.Find($"[data-testid=key-row][data-key='{key}']"));
        Assert.Empty(again.FindAll("[data-testid=api-secret]"));
        Assert.DoesNotContain(secret, again.Markup);
    }

    [Fact]
    public async Task Copy_buttons_call_the_clipboard_helper()
    {
        var customer = await CreateCustomerAsync("Copy Ltd");
        LogInAs(customer);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=generate-key]").HasAttribute("disabled")));
        cut.ClickOn("[data-testid=generate-key]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=copy-api-secret]"));

        cut.ClickOn("[data-testid=copy-api-secret]");

        var secret = cut.Find("[data-testid=api-secret]").TextContent.Trim();
        var call = Assert.Single(ctx.JSInterop.Invocations, i => i.Identifier == "wapbridge.copy");
        Assert.Equal(secret, call.Arguments[0]);
    }

    [Fact]
    public async Task Revoke_asks_for_confirmation_then_marks_the_key_revoked()
    {
        var customer = await CreateCustomerAsync("Revokers");
        var created = await ApiKeys.CreateAsync(customer.Id, "old integration", null);
        LogInAs(customer);
        var cut = RenderPanel();
        var rowSelector = $"[data-testid=key-row][data-key='{created.Summary.Key}']";
        cut.WaitForAssertion(() => cut.Find(rowSelector));

        cut.Find($"{rowSelector} [data-testid=revoke-key]").Click();
        // Nothing happens before the confirmation.
        Assert.Equal("active", cut.Find($"{rowSelector} [data-testid=key-status]").TextContent.Trim());
        Assert.NotNull(await ApiKeys.VerifyAsync(created.Summary.Key, created.Secret));

        cut.Find($"{rowSelector} [data-testid=confirm-revoke]").Click();

        cut.WaitForAssertion(() => Assert.Equal("revoked", cut.Find($"{rowSelector} [data-testid=key-status]").TextContent.Trim()));
        Assert.Empty(cut.FindAll($"{rowSelector} [data-testid=revoke-key]"));
        Assert.Null(await ApiKeys.VerifyAsync(created.Summary.Key, created.Secret));
        Assert.NotNull((await ApiKeys.ListAsync(customer.Id)).Single().RevokedAt);
    }

    [Fact]
    public async Task Cancelling_a_revoke_keeps_the_key()
    {
        var customer = await CreateCustomerAsync("Cautious");
        var created = await ApiKeys.CreateAsync(customer.Id, "keep me", null);
        LogInAs(customer);
        var cut = RenderPanel();
        var rowSelector = $"[data-testid=key-row][data-key='{created.Summary.Key}']";
        cut.WaitForAssertion(() => cut.Find(rowSelector));

        cut.Find($"{rowSelector} [data-testid=revoke-key]").Click();
        cut.Find($"{rowSelector} [data-testid=cancel-revoke]").Click();

        Assert.NotNull(cut.Find($"{rowSelector} [data-testid=revoke-key]"));
        Assert.NotNull(await ApiKeys.VerifyAsync(created.Summary.Key, created.Secret));
    }

    [Fact]
    public async Task Keys_of_another_customer_never_appear()
    {
        var mine = await CreateCustomerAsync("Mine");
        var theirs = await CreateCustomerAsync("Theirs");
        var theirKey = await ApiKeys.CreateAsync(theirs.Id, "their secret integration", null);
        LogInAs(mine);

        var cut = RenderPanel();
        cut.WaitForAssertion(() => cut.Find("[data-testid=no-keys]"));
        Assert.DoesNotContain(theirKey.Summary.Key, cut.Markup);
        Assert.DoesNotContain("their secret integration", cut.Markup);

        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=generate-key]").HasAttribute("disabled")));
        cut.ClickOn("[data-testid=generate-key]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=api-secret]"));

        var rows = cut.FindAll("[data-testid=key-row]");
        var row = Assert.Single(rows);
        Assert.NotEqual(theirKey.Summary.Key, row.GetAttribute("data-key"));
        Assert.DoesNotContain(theirKey.Summary.Key, cut.Markup);
        // The new key belongs to my customer only.
        Assert.Single(await ApiKeys.ListAsync(mine.Id));
        Assert.Equal(theirKey.Summary.Key, Assert.Single(await ApiKeys.ListAsync(theirs.Id)).Key);
    }

    [Fact]
    public void A_login_without_customer_gets_an_explanation_not_keys()
    {
        auth.SetAuthorized("nobody@example.com");
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.Contains("not linked to a customer", cut.Markup));
        Assert.Empty(cut.FindAll("[data-testid=generate-key]"));
    }

    [Fact]
    public async Task The_admin_key_checkbox_is_offered_to_Admins_only()
    {
        var customer = await CreateCustomerAsync("Owners Only");
        LogInAs(customer);
        var owner = RenderPanel();
        owner.WaitForAssertion(() => owner.Find("[data-testid=generate-key]"));
        Assert.Empty(owner.FindAll("[data-testid=key-admin]"));
        Assert.DoesNotContain("Admin key", owner.Markup);

        await ctx.DisposeComponentsAsync();
        LogInAs(customer, Roles.Admin);
        var admin = RenderPanel();
        admin.WaitForAssertion(() => Assert.Contains("Admin key (may call the admin API)", admin.Find("[data-testid=key-admin]").TextContent));
        Assert.False(admin.Find("[data-testid=key-admin] input[type=checkbox]").HasAttribute("checked"));
    }

    [Fact]
    public async Task An_Admin_ticking_the_checkbox_makes_an_admin_key_and_the_list_shows_it()
    {
        var customer = await CreateCustomerAsync("Operators");
        var adminId = await CreateAdminUserAsync(customer);
        LogInAs(customer, Roles.Admin, adminId);
        var cut = RenderPanel();
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=generate-key]").HasAttribute("disabled")));

        cut.Find("[data-testid=key-label] input").Input("automation");
        cut.Find("[data-testid=key-admin] input[type=checkbox]").Change(true);
        cut.ClickOn("[data-testid=generate-key]");
        cut.WaitForAssertion(() => cut.Find("[data-testid=api-secret]"));
        var adminKey = cut.Find("[data-testid=api-key]").TextContent.Trim();
        var adminSecret = cut.Find("[data-testid=api-secret]").TextContent.Trim();

        // Unticked again for the next key: an admin key is never made by accident.
        cut.WaitForAssertion(() => Assert.False(cut.Find("[data-testid=key-admin] input[type=checkbox]").HasAttribute("checked")));
        cut.Find("[data-testid=key-label] input").Input("sending");
        cut.ClickOn("[data-testid=generate-key]");
        cut.WaitForAssertion(() => Assert.NotEqual(adminKey, cut.Find("[data-testid=api-key]").TextContent.Trim()));
        var plainKey = cut.Find("[data-testid=api-key]").TextContent.Trim();
        var plainSecret = cut.Find("[data-testid=api-secret]").TextContent.Trim();

        Assert.True((await ApiKeys.VerifyAsync(adminKey, adminSecret))!.IsAdmin);
        Assert.False((await ApiKeys.VerifyAsync(plainKey, plainSecret))!.IsAdmin);
        cut.WaitForAssertion(() => Assert.NotEmpty(cut.FindAll($"[data-testid=key-row][data-key='{adminKey}'] [data-testid=key-admin-badge]")));
        Assert.Empty(cut.FindAll($"[data-testid=key-row][data-key='{plainKey}'] [data-testid=key-admin-badge]"));
    }

    /// <summary>A dashboard user in the Admin role, as registration stores one.</summary>
    private async Task<string> CreateAdminUserAsync(Customer customer)
    {
        await using var db = await ctx.Services.GetRequiredService<IDbContextFactory<WapBridgeDbContext>>().CreateDbContextAsync();
        var role = new IdentityRole(Roles.Admin) { NormalizedName = Roles.Admin.ToUpperInvariant() };
        var user = new WapBridgeUser { UserName = "admin@example.com", NormalizedUserName = "ADMIN@EXAMPLE.COM", Email = "admin@example.com", CustomerId = customer.Id };
        db.Roles.Add(role);
        db.Users.Add(user);
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = user.Id, RoleId = role.Id });
        await db.SaveChangesAsync();
        return user.Id;
    }

    private async Task<Customer> CreateCustomerAsync(string name) =>
        await ctx.Services.GetRequiredService<CustomerService>().CreateAsync(name, $"{Guid.NewGuid():N}@example.com");

    private void LogInAs(Customer customer, string? role = null, string? userId = null)
    {
        auth.SetAuthorized("owner@example.com");
        if (role is not null)
            auth.SetRoles(role);
        auth.SetClaims(
            new Claim(ClaimTypes.NameIdentifier, userId ?? "user-" + customer.Id),
            new Claim(WapBridgeClaims.CustomerId, customer.Id.ToString(CultureInfo.InvariantCulture)),
            new Claim(WapBridgeClaims.CustomerCode, customer.Code));
    }

    // The panel's copy tooltips need a popover provider, as in the real layout.
    private IRenderedComponent<ContainerFragment> RenderPanel() =>
        ctx.Render<ContainerFragment>(p => p.AddChildContent(b =>
        {
            b.OpenComponent<MudPopoverProvider>(0);
            b.CloseComponent();
            b.OpenComponent<ApiKeysPanel>(1);
            b.CloseComponent();
        }));
}

/// <summary>Renders its child content; lets a test render several siblings as one component.</summary>
public sealed class ContainerFragment : ComponentBase
{
    [Parameter] public RenderFragment? ChildContent { get; set; }

    protected override void BuildRenderTree(RenderTreeBuilder builder) => builder.AddContent(0, ChildContent);
}
