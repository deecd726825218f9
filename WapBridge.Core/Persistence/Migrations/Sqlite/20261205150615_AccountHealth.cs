using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AccountHealth : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "HealthChangedAt",
                table: "Instances",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "HealthLevel",
                table: "Instances",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "HealthScore",
                table: "Instances",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ProtectionOverrideUntil",
                table: "Instances",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TimeZone",
                table: "Instances",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "WarmUpStartedAt",
                table: "Instances",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "AllowUnthrottledCampaigns",
                table: "Customers",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "KnownContacts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Number = table.Column<string>(type: "TEXT", maxLength: 20, nullable: true),
                    Lid = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    Source = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    FirstSeenAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KnownContacts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_KnownContacts_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_KnownContacts_InstanceId_Lid",
                table: "KnownContacts",
                columns: new[] { "InstanceId", "Lid" },
                unique: true,
                filter: "\"Lid\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_KnownContacts_InstanceId_Number",
                table: "KnownContacts",
                columns: new[] { "InstanceId", "Number" },
                unique: true,
                filter: "\"Number\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_KnownContacts_InstanceId_Source_FirstSeenAt",
                table: "KnownContacts",
                columns: new[] { "InstanceId", "Source", "FirstSeenAt" });

            // Conversations the instance already had count as known: an upgrade never budgets long-standing contacts.
            migrationBuilder.Sql("""
                INSERT INTO "KnownContacts" ("InstanceId", "Number", "Source", "FirstSeenAt")
                SELECT "InstanceId", "Chat",
                       CASE WHEN MIN(CASE WHEN "Direction" = 'inbound' THEN "CreatedAt" END) <= MIN("CreatedAt") THEN 'wrote_first' ELSE 'messaged' END,
                       MIN("CreatedAt")
                FROM "Messages"
                WHERE "Chat" IS NOT NULL AND "Chat" NOT LIKE '%@%' AND length("Chat") <= 20
                  AND ("Direction" = 'inbound' OR "Status" IN ('sent', 'delivered', 'read', 'played'))
                GROUP BY "InstanceId", "Chat"
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KnownContacts");

            migrationBuilder.DropColumn(
                name: "HealthChangedAt",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "HealthLevel",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "HealthScore",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "ProtectionOverrideUntil",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "TimeZone",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "WarmUpStartedAt",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "AllowUnthrottledCampaigns",
                table: "Customers");
        }
    }
}
