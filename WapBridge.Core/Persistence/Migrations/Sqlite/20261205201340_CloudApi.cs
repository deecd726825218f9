using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class CloudApi : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "EngineMessageId",
                table: "Messages",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FallbackTemplate",
                table: "Instances",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "FallbackTemplateLanguage",
                table: "Instances",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TemplateLanguage",
                table: "Campaigns",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "TemplateName",
                table: "Campaigns",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "CloudApiCallbacks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Body = table.Column<string>(type: "TEXT", nullable: false),
                    ReceivedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ProcessedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    LastError = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CloudApiCallbacks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CloudApiCallbacks_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "ServiceWindows",
                columns: table => new
                {
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Number = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    LastInboundAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ServiceWindows", x => new { x.InstanceId, x.Number });
                    table.ForeignKey(
                        name: "FK_ServiceWindows_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Messages_InstanceId_EngineMessageId",
                table: "Messages",
                columns: new[] { "InstanceId", "EngineMessageId" },
                filter: "\"EngineMessageId\" IS NOT NULL");

            migrationBuilder.CreateIndex(
                name: "IX_CloudApiCallbacks_InstanceId",
                table: "CloudApiCallbacks",
                column: "InstanceId");

            migrationBuilder.CreateIndex(
                name: "IX_CloudApiCallbacks_ProcessedAt_Id",
                table: "CloudApiCallbacks",
                columns: new[] { "ProcessedAt", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CloudApiCallbacks");

            migrationBuilder.DropTable(
                name: "ServiceWindows");

            migrationBuilder.DropIndex(
                name: "IX_Messages_InstanceId_EngineMessageId",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "EngineMessageId",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "FallbackTemplate",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "FallbackTemplateLanguage",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "TemplateLanguage",
                table: "Campaigns");

            migrationBuilder.DropColumn(
                name: "TemplateName",
                table: "Campaigns");
        }
    }
}
