namespace WapBridge.Web.Components;

public static class DashboardServices
{
    public static IServiceCollection AddWapBridgeDashboard(this IServiceCollection services) => services.AddAntiforgery();

    public static void MapWapBridgeDashboard(this IEndpointRouteBuilder app) { }
}
