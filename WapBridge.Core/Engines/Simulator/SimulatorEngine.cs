namespace WapBridge.Core.Engines.Simulator;

/// <summary>The embedded in-process WhatsApp network, for demos, tests and benchmarks.</summary>
public sealed class SimulatorEngine(SimulatorNetwork network) : IWhatsAppEngine
{
    public const string EngineName = "simulator";

    public string Name => EngineName;
    public string? UnavailableReason => network.Options.Enabled ? null : "The simulator is disabled (WapBridge:Engines:Simulator:Enabled=false).";
    public bool SupportsPairingCode => true;

    /// <summary>
    /// The simulator does everything, so demos and integrators' tests work offline (contract §9). Meta's 24-hour window is
    /// a rule of the Cloud API, not an ability: under it every send to a contact who never wrote would fail.
    /// </summary>
    public bool Supports(string feature) => feature != EngineFeatures.ServiceWindow;

    public IEngineSession CreateSession(EngineSessionContext context) => new SimulatorSession(network, context);
}
