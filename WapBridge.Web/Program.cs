using WapBridge.Web.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddWapBridge();
var app = builder.Build();
await app.UseWapBridgeAsync();
await app.RunAsync();

/// <summary>Entry point type, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
