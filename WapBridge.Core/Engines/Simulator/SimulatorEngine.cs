namespace WapBridge.Core.Engines.Simulator;

/// <summary>The embedded in-process WhatsApp network, for demos, tests and benchmarks.</summary>
public sealed class SimulatorEngine(SimulatorNetwork network) : IWhatsAppEngine
{
    public const string EngineName = "simulator";

    public string Name => EngineName;
    public string? UnavailableReason => network.Options.Enabled ? null : "The simulator is disabled (WapBridge:Engines:Simulator:Enabled=false).";
    public bool SupportsPairingCode => true;

    /// <summary>
    /// The simulator does everything WhatsApp Web does, so demos and integrators' tests work offline (contract §9). Not
    /// the Cloud API's templates, nor its 24-hour window rule, which would refuse every message to a contact who had not
    /// written first.
    /// </summary>
    public bool Supports(string feature) => feature is not (EngineFeatures.Templates or EngineFeatures.ServiceWindow);

    public IEngineSession CreateSession(EngineSessionContext context) => new SimulatorSession(network, context);
}
