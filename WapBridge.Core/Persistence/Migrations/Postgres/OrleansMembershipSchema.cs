namespace WapBridge.Core.Persistence.Migrations.Postgres;

/// <summary>
/// The tables and stored queries Orleans' ADO.NET clustering (10.x) reads on PostgreSQL, created by our migrations so a
/// node starts with no manual SQL. Orleans runs only the queries it finds in <c>OrleansQuery</c>, by key, with its
/// own parameter names, and reads the columns by name; the contract is dotnet/orleans'
/// <c>src/AdoNet/Orleans.Clustering.AdoNet/PostgreSQL-Clustering.sql</c>, implemented here in our own words. The
/// version row is the membership table's etag: a conditional write locks it, compares it, and moves it on together
/// with the member row, or writes nothing and answers 0.
/// </summary>
internal static class OrleansMembershipSchema
{
    public const string Create = """
        CREATE TABLE OrleansQuery (
            QueryKey varchar(64) NOT NULL PRIMARY KEY,
            QueryText varchar(8000) NOT NULL);

        CREATE TABLE OrleansMembershipVersionTable (
            DeploymentId varchar(150) NOT NULL PRIMARY KEY,
            Timestamp timestamptz(3) NOT NULL DEFAULT now(),
            Version integer NOT NULL DEFAULT 0);

        CREATE TABLE OrleansMembershipTable (
            DeploymentId varchar(150) NOT NULL REFERENCES OrleansMembershipVersionTable (DeploymentId),
            Address varchar(45) NOT NULL,
            Port integer NOT NULL,
            Generation integer NOT NULL,
            SiloName varchar(150) NOT NULL,
            HostName varchar(150) NOT NULL,
            Status integer NOT NULL,
            ProxyPort integer NULL,
            SuspectTimes varchar(8000) NULL,
            StartTime timestamptz(3) NOT NULL,
            IAmAliveTime timestamptz(3) NOT NULL,
            PRIMARY KEY (DeploymentId, Address, Port, Generation));

        CREATE FUNCTION orleans_insert_member(
            deployment varchar, address_in varchar, port_in integer, generation_in integer, silo varchar, host varchar,
            status_in integer, proxy integer, started timestamptz, alive timestamptz, expected integer)
        RETURNS TABLE(row_count integer) LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM OrleansMembershipVersionTable WHERE DeploymentId = deployment AND Version = expected FOR UPDATE;
            IF NOT FOUND THEN RETURN QUERY SELECT 0; RETURN; END IF;
            INSERT INTO OrleansMembershipTable (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
            VALUES (deployment, address_in, port_in, generation_in, silo, host, status_in, proxy, started, alive)
            ON CONFLICT DO NOTHING;
            IF NOT FOUND THEN RETURN QUERY SELECT 0; RETURN; END IF;
            UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now() WHERE DeploymentId = deployment;
            RETURN QUERY SELECT 1;
        END $$;

        CREATE FUNCTION orleans_update_member(
            deployment varchar, address_in varchar, port_in integer, generation_in integer, status_in integer,
            suspects varchar, alive timestamptz, expected integer)
        RETURNS TABLE(row_count integer) LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM OrleansMembershipVersionTable WHERE DeploymentId = deployment AND Version = expected FOR UPDATE;
            IF NOT FOUND THEN RETURN QUERY SELECT 0; RETURN; END IF;
            UPDATE OrleansMembershipTable SET Status = status_in, SuspectTimes = suspects, IAmAliveTime = alive
            WHERE DeploymentId = deployment AND Address = address_in AND Port = port_in AND Generation = generation_in;
            IF NOT FOUND THEN RETURN QUERY SELECT 0; RETURN; END IF;
            UPDATE OrleansMembershipVersionTable SET Version = Version + 1, Timestamp = now() WHERE DeploymentId = deployment;
            RETURN QUERY SELECT 1;
        END $$;

        INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES
        ('UpdateIAmAlivetimeKey', 'UPDATE OrleansMembershipTable SET IAmAliveTime = @IAmAliveTime
            WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;'),
        ('InsertMembershipVersionKey', 'WITH created AS (
                INSERT INTO OrleansMembershipVersionTable (DeploymentId) VALUES (@DeploymentId) ON CONFLICT DO NOTHING RETURNING 1)
            SELECT count(*)::integer AS row_count FROM created;'),
        ('InsertMembershipKey', 'SELECT row_count FROM orleans_insert_member(@DeploymentId, @Address, @Port, @Generation, @SiloName,
            @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime, @Version);'),
        ('UpdateMembershipKey', 'SELECT row_count FROM orleans_update_member(@DeploymentId, @Address, @Port, @Generation, @Status,
            @SuspectTimes, @IAmAliveTime, @Version);'),
        ('MembershipReadRowKey', 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
                m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
                AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
            WHERE v.DeploymentId = @DeploymentId;'),
        ('MembershipReadAllKey', 'SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
                m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
            FROM OrleansMembershipVersionTable v
            LEFT JOIN OrleansMembershipTable m ON m.DeploymentId = v.DeploymentId
            WHERE v.DeploymentId = @DeploymentId;'),
        ('DeleteMembershipTableEntriesKey', 'DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
            DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;'),
        ('GatewaysQueryKey', 'SELECT Address, ProxyPort, Generation FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;'),
        ('CleanupDefunctSiloEntriesKey', 'DELETE FROM OrleansMembershipTable
            WHERE DeploymentId = @DeploymentId AND IAmAliveTime < @IAmAliveTime AND Status != 3;');
        """;

    public const string Drop = """
        DROP TABLE OrleansMembershipTable;
        DROP TABLE OrleansMembershipVersionTable;
        DROP FUNCTION orleans_insert_member;
        DROP FUNCTION orleans_update_member;
        DROP TABLE OrleansQuery;
        """;
}
