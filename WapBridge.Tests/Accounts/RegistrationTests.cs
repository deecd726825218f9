using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using WapBridge.Core.Accounts;
using WapBridge.Tests.TestHost;

namespace WapBridge.Tests.Accounts;

/// <summary>
/// Who becomes the server's Admin through the register page (issue 13 item 1): only the first registration of a server
/// without customers, or a registration with a one-time setup token. Posted as a browser posts the form.
/// </summary>
public abstract class RegistrationTests(string provider)
{
    private static Dictionary<string, string?> Settings(bool allowRegistration) =>
        new() { ["WapBridge:Accounts:AllowRegistration"] = allowRegistration ? "true" : "false" };

    private async Task<WapBridgeApp> StartAsync(bool allowRegistration)
    {
        var app = new WapBridgeApp(provider, Settings(allowRegistration));
        await app.InitializeAsync();
        if (!app.Available)
        {
            await app.DisposeAsync();
            app.SkipIfUnavailable();
        }
        return app;
    }

    private static async Task<IList<string>?> RolesOfAsync(WapBridgeApp app, string email)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        var user = await users.FindByEmailAsync(email);
        return user is null ? null : await users.GetRolesAsync(user);
    }

    private static async Task<string> SetupTokenAsync(WapBridgeApp app)
    {
        using var admin = app.CreateApiClient("Bearer " + WapBridgeApp.AdminToken);
        var answer = (await admin.CallAsync("wap_bridge.api.admin.create_setup_token")).EnsureOk();
        Assert.EndsWith("/Account/Register", answer.Message!["register_url"]!.GetValue<string>());
        return answer.Message!["setup_token"]!.GetValue<string>();
    }

    [Fact]
    public async Task First_registration_on_a_server_without_customers_becomes_Admin()
    {
        await using var app = await StartAsync(allowRegistration: false);
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);

        var answer = await AccountForms.RegisterAsync(browser, "first@example.com");

        Assert.Equal(302, answer.Status);
        Assert.Equal([Roles.Admin, Roles.Owner], (await RolesOfAsync(app, "first@example.com"))!.Order());
    }

    [Fact]
    public async Task A_server_set_up_through_the_admin_token_is_closed_to_registration_and_grants_no_Admin()
    {
        await using var app = await StartAsync(allowRegistration: false);
        await app.CreateCustomerAsync("Bootstrapped Ltd");
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);

        var answer = await AccountForms.RegisterAsync(browser, "visitor@example.com");

        Assert.Equal(200, answer.Status);
        Assert.Contains("Registration is closed on this server", answer.Html);
        Assert.Contains("data-testid=\"registration-closed\"", answer.Html);
        Assert.Null(await RolesOfAsync(app, "visitor@example.com"));
    }

    [Fact]
    public async Task Open_registration_on_a_server_with_customers_makes_Owners_never_Admins()
    {
        await using var app = await StartAsync(allowRegistration: true);
        await app.CreateCustomerAsync("Bootstrapped Ltd");
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);

        var answer = await AccountForms.RegisterAsync(browser, "owner@example.com");

        Assert.Equal(302, answer.Status);
        Assert.Equal([Roles.Owner], await RolesOfAsync(app, "owner@example.com"));
    }

    [Fact]
    public async Task The_register_page_states_every_password_rule_up_front()
    {
        await using var app = await StartAsync(allowRegistration: true);
        using var page = AccountForms.CreateBrowserClient(app, kestrel: false);
        var html = await page.GetStringAsync("/Account/Register");
        Assert.Contains("At least 8 characters, with an uppercase letter, a lowercase letter and a digit.", html);
        Assert.Contains("aria-describedby=\"password-rules\"", html);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_setup_token_registers_the_Admin_and_works_only_once(bool allowRegistration)
    {
        await using var app = await StartAsync(allowRegistration);
        await app.CreateCustomerAsync("Bootstrapped Ltd");
        var token = await SetupTokenAsync(app);

        // The register page asks for it.
        using (var page = AccountForms.CreateBrowserClient(app, kestrel: false))
            Assert.Contains("Setup token", await page.GetStringAsync("/Account/Register"));

        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);
        var first = await AccountForms.RegisterAsync(browser, "operator@example.com", setupToken: token);
        Assert.Equal(302, first.Status);
        Assert.Equal([Roles.Admin, Roles.Owner], (await RolesOfAsync(app, "operator@example.com"))!.Order());

        using var again = AccountForms.CreateBrowserClient(app, kestrel: false);
        var second = await AccountForms.RegisterAsync(again, "second@example.com", setupToken: token);
        Assert.Equal(200, second.Status);
        Assert.Contains("The setup token is not valid", second.Html);
        Assert.Null(await RolesOfAsync(app, "second@example.com"));
    }

    [Fact]
    public async Task A_failed_registration_does_not_spend_the_setup_token_and_a_wrong_token_grants_nothing()
    {
        await using var app = await StartAsync(allowRegistration: true);
        await app.CreateCustomerAsync("Bootstrapped Ltd");
        var token = await SetupTokenAsync(app);
        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);

        var forged = await AccountForms.RegisterAsync(browser, "forger@example.com", setupToken: token[..^4] + "AAAA");
        Assert.Contains("The setup token is not valid", forged.Html);
        Assert.Null(await RolesOfAsync(app, "forger@example.com"));

        // Identity refuses the password: nothing is stored and the token stays good.
        var weak = await AccountForms.RegisterAsync(browser, "operator@example.com", password: "12345678", setupToken: token);
        Assert.Equal(200, weak.Status);
        Assert.Null(await RolesOfAsync(app, "operator@example.com"));

        var retried = await AccountForms.RegisterAsync(browser, "operator@example.com", setupToken: token);
        Assert.Equal(302, retried.Status);
        Assert.Contains(Roles.Admin, (await RolesOfAsync(app, "operator@example.com"))!);
    }

    [Fact]
    public async Task Only_the_admin_token_makes_setup_tokens()
    {
        await using var app = await StartAsync(allowRegistration: false);
        var customer = await app.CreateCustomerAsync();
        using var client = app.CreateApiClient(customer.TokenHeader);

        var answer = await client.CallAsync("wap_bridge.api.admin.create_setup_token");

        Assert.Equal(403, answer.Status);
        Assert.Equal("PermissionError", answer.ExcType);
    }
}

public sealed class SqliteRegistrationTests() : RegistrationTests("sqlite");

public sealed class PostgresRegistrationTests() : RegistrationTests("postgres");

/// <summary>The setup token a restarted server logs when it has customers but no Admin user.</summary>
public sealed class SetupTokenLogTests
{
    [Fact]
    public async Task Start_up_logs_a_working_setup_token_when_customers_exist_without_an_Admin()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "wapbridge-tests", Guid.NewGuid().ToString("N"));
        await using (var bootstrap = new CapturingApp(dataDir: dataDir) { KeepDataDir = true })
        {
            await bootstrap.InitializeAsync();
            // No customers yet: nothing to announce, the first registration will be Admin.
            Assert.DoesNotContain(bootstrap.Logs.Entries, e => e.Message.Contains("setup token", StringComparison.Ordinal));
            await bootstrap.CreateCustomerAsync("Bootstrapped Ltd");
        }

        await using var app = new CapturingApp(dataDir: dataDir);
        await app.InitializeAsync();
        var announcement = Assert.Single(app.Logs.Entries, e => e.Values.ContainsKey("SetupToken"));
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Warning, announcement.Level);
        Assert.EndsWith("/Account/Register", announcement.Values["RegisterUrl"]);

        using var browser = AccountForms.CreateBrowserClient(app, kestrel: false);
        Assert.Equal(302, (await AccountForms.RegisterAsync(browser, "operator@example.com", setupToken: announcement.Values["SetupToken"])).Status);
        await using var scope = app.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<WapBridgeUser>>();
        Assert.True(await users.IsInRoleAsync((await users.FindByEmailAsync("operator@example.com"))!, Roles.Admin));
    }
}
