using System.Collections;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using WapBridge.Core.Accounts;
using WapBridge.Core.Campaigns;
using WapBridge.Core.Common;
using WapBridge.Core.Engines.Simulator;
using WapBridge.Core.Messaging;
using WapBridge.Core.Webhooks;
using WapBridge.Tests.TestHost;
using WapBridge.Web.Api;
using WapBridge.Web.Hosting;

namespace WapBridge.Tests.Operations;

/// <summary>README's Configuration tables, as an operator uses them: the shipped process, its environment, its arguments.</summary>
public sealed partial class ConfigurationTests
{
    [Fact]
    public async Task ASPNETCORE_URLS_chooses_the_listen_address()
    {
        var port = GatewayProcess.FreePort();
        var token = GatewayProcess.NewAdminToken();
        var dataDir = GatewayProcess.NewDataDir();
        try
        {
            await using (var gateway = GatewayProcess.Start(dataDir, new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
                ["WAPBRIDGE_ADMIN_TOKEN"] = token,
            }))
            {
                var address = new Uri($"http://127.0.0.1:{port}/");
                await gateway.WaitHealthyAsync(address);

                // WAPBRIDGE_DATA_DIR and WAPBRIDGE_ADMIN_TOKEN, read by the same process.
                using var admin = new HttpClient { BaseAddress = address };
                admin.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);
                (await admin.CallAsync("wap_bridge.api.admin.list_customers")).EnsureOk();
                Assert.True(File.Exists(Path.Combine(dataDir, "wapbridge.db")), "the database is not in WAPBRIDGE_DATA_DIR");
                Assert.Contains($"listening on http://127.0.0.1:{port}", gateway.Tail(200));
            }
        }
        finally
        {
            DeleteQuietly(dataDir);
        }
    }

    [Fact]
    public async Task Urls_argument_chooses_the_listen_address()
    {
        var port = GatewayProcess.FreePort();
        var dataDir = GatewayProcess.NewDataDir();
        try
        {
            await using var gateway = GatewayProcess.Start(dataDir, new Dictionary<string, string>(), ["--urls", $"http://127.0.0.1:{port}"]);
            await gateway.WaitHealthyAsync(new Uri($"http://127.0.0.1:{port}/"));
        }
        finally
        {
            DeleteQuietly(dataDir);
        }
    }

    [Fact]
    public async Task Without_a_listen_address_it_listens_on_localhost_5080()
    {
        if (!PortIsFree(5080))
            Assert.Skip("Port 5080 is in use on this machine, so the default listen address cannot be tried here.");
        var dataDir = GatewayProcess.NewDataDir();
        try
        {
            await using var gateway = GatewayProcess.Start(dataDir, new Dictionary<string, string>());
            try
            {
                await gateway.WaitHealthyAsync(new Uri("http://127.0.0.1:5080/"));
            }
            catch (InvalidOperationException) when (gateway.Tail(200).Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                Assert.Skip("Something else took port 5080 while the gateway started; the default listen address cannot be tried now.");
            }
            Assert.Contains("listening on http://localhost:5080", gateway.Tail(200));
        }
        finally
        {
            DeleteQuietly(dataDir);
        }
    }

    [Fact]
    public void Every_variable_in_the_readme_tables_is_a_setting_the_gateway_reads()
    {
        var variables = ReadmeVariables();
        Assert.Contains("WAPBRIDGE_Messaging__InstanceMessagesPerSecond", variables);
        Assert.Contains("WAPBRIDGE_Engines__Baileys__RestartDelay", variables);
        var sections = OptionsSections();
        var unknown = variables.Where(v => !IsBound(WapBridgeEnvironmentVariables.ToConfigurationKey(v["WAPBRIDGE_".Length..]), sections)).ToList();
        Assert.True(unknown.Count == 0, "README documents variables no options class binds: " + string.Join(", ", unknown));
    }

    [Fact]
    public void Environment_variables_override_appsettings()
    {
        var environment = new Hashtable
        {
            ["WAPBRIDGE_DATA_DIR"] = "/srv/wapbridge-data",
            ["WAPBRIDGE_ADMIN_TOKEN"] = "an-operator-token-0123456789abcdef",
            ["WAPBRIDGE_Accounts__AllowRegistration"] = "true",
            ["wapbridge_hangfire__workercount"] = "3",
            ["WAPBRIDGE_Api__RateLimit__Burst"] = "7",
            ["WAPBRIDGE_Messaging__InstanceMessagesPerSecond"] = "0",
            ["WAPBRIDGE_Messaging__MediaLimits__ImageBytes"] = "1234",
            ["WAPBRIDGE_Engines__Simulator__SendLatency"] = "00:00:00.050",
            ["WAPBRIDGE_Webhooks__AllowPrivateTargets"] = "true",
            ["WAPBRIDGE_Campaigns__OptOutKeywords__0"] = "PARE",
            ["WAPBRIDGE_Campaigns__OptOutKeywords__1"] = "ALTO",
            ["SOMETHING_ELSE"] = "ignored",
        };
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(Path.GetDirectoryName(GatewayProcess.WebDll)!, "appsettings.json"))
            .AddWapBridgeEnvironmentVariables(environment)
            .Build();

        var root = configuration.GetSection(WapBridgeOptions.Section).Get<WapBridgeOptions>()!;
        Assert.Equal("/srv/wapbridge-data", root.DataDir);
        Assert.Equal("an-operator-token-0123456789abcdef", root.AdminToken);
        Assert.True(configuration.GetSection(AccountOptions.Section).Get<AccountOptions>()!.AllowRegistration);
        Assert.Equal(3, configuration.GetSection(HangfireOptions.Section).Get<HangfireOptions>()!.WorkerCount);
        Assert.Equal(7, configuration.GetSection(ApiOptions.Section).Get<ApiOptions>()!.RateLimit.Burst);
        var messaging = configuration.GetSection(MessagingOptions.Section).Get<MessagingOptions>()!;
        Assert.Equal(0, messaging.InstanceMessagesPerSecond);
        Assert.Equal(1234, messaging.MediaLimits.ImageBytes);
        Assert.Equal(TimeSpan.FromMilliseconds(50), configuration.GetSection(SimulatorOptions.Section).Get<SimulatorOptions>()!.SendLatency);
        Assert.True(configuration.GetSection(WebhookOptions.Section).Get<WebhookOptions>()!.AllowPrivateTargets);
        // The configured list replaces the default one instead of being appended to it.
        Assert.Equal(["PARE", "ALTO"], configuration.GetSection(CampaignOptions.Section).Get<CampaignOptions>()!.EffectiveOptOutKeywords);
        Assert.Equal(CampaignOptions.DefaultOptOutKeywords, new CampaignOptions().EffectiveOptOutKeywords);
    }

    /// <summary>Every <c>WAPBRIDGE_…</c> variable in README's tables, with the short forms (<c>`A__B` / `C`</c>, <c>`A__X` … `Y`</c>) expanded.</summary>
    private static List<string> ReadmeVariables()
    {
        var readme = Path.Combine(GatewayProcess.RepositoryRoot, "README.md");
        var variables = new List<string>();
        foreach (var line in File.ReadLines(readme))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal))
                continue;
            var firstColumn = line.Split('|')[1];
            string? last = null;
            foreach (Match token in Backticked().Matches(firstColumn))
            {
                var name = token.Groups[1].Value;
                if (name.StartsWith("WAPBRIDGE_", StringComparison.Ordinal))
                    variables.Add(last = name);
                else if (last is not null && !name.Contains("__", StringComparison.Ordinal))
                    variables.Add(last[..(last.LastIndexOf("__", StringComparison.Ordinal) + 2)] + name);
            }
        }
        return variables;
    }

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    /// <summary>Options classes (a <c>Section</c> constant) of the gateway's assemblies, by section path.</summary>
    private static Dictionary<string, Type> OptionsSections() =>
        new[] { typeof(WapBridgeOptions).Assembly, typeof(ApiOptions).Assembly }
            .SelectMany(a => a.GetTypes())
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true } && t.Field.FieldType == typeof(string))
            .ToDictionary(t => (string)t.Field!.GetRawConstantValue()!, t => t.Type, StringComparer.OrdinalIgnoreCase);

    private static bool IsBound(string key, Dictionary<string, Type> sections)
    {
        var section = sections.Keys.Where(s => key.StartsWith(s + ":", StringComparison.OrdinalIgnoreCase)).MaxBy(s => s.Length);
        if (section is null)
            return false;
        var type = sections[section];
        foreach (var segment in key[(section.Length + 1)..].Split(':'))
        {
            if (int.TryParse(segment, out _) && (type.IsArray || type.IsGenericType))
            {
                type = type.IsArray ? type.GetElementType()! : type.GetGenericArguments()[^1];
                continue;
            }
            var property = type.GetProperty(segment, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || (!property.CanWrite && !property.PropertyType.IsClass))
                return false;
            type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        }
        return true;
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static void DeleteQuietly(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
