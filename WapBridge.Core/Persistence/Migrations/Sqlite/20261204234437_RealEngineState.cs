using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class RealEngineState : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "HoldReason",
                table: "Messages",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "NextSendAt",
                table: "Messages",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "BannedUntil",
                table: "Instances",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "RestrictedUntil",
                table: "Instances",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RestrictionDetail",
                table: "Instances",
                type: "TEXT",
                maxLength: 500,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "UndecryptableMessages",
                table: "Instances",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "LidMappings",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Lid = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    PhoneNumber = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    LearnedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LidMappings", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LidMappings_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "NumberChecks",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    Number = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    OnWhatsApp = table.Column<bool>(type: "INTEGER", nullable: false),
                    Jid = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Lid = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    CheckedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_NumberChecks", x => x.Id);
                    table.ForeignKey(
                        name: "FK_NumberChecks_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "SentMessageContents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    WaMessageId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    RemoteJid = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Content = table.Column<byte[]>(type: "BLOB", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SentMessageContents", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SentMessageContents_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_LidMappings_InstanceId_Lid",
                table: "LidMappings",
                columns: new[] { "InstanceId", "Lid" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_LidMappings_InstanceId_PhoneNumber",
                table: "LidMappings",
                columns: new[] { "InstanceId", "PhoneNumber" });

            migrationBuilder.CreateIndex(
                name: "IX_NumberChecks_InstanceId_Number",
                table: "NumberChecks",
                columns: new[] { "InstanceId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_SentMessageContents_CreatedAt",
                table: "SentMessageContents",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_SentMessageContents_InstanceId_WaMessageId",
                table: "SentMessageContents",
                columns: new[] { "InstanceId", "WaMessageId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "LidMappings");

            migrationBuilder.DropTable(
                name: "NumberChecks");

            migrationBuilder.DropTable(
                name: "SentMessageContents");

            migrationBuilder.DropColumn(
                name: "HoldReason",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "NextSendAt",
                table: "Messages");

            migrationBuilder.DropColumn(
                name: "BannedUntil",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "RestrictedUntil",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "RestrictionDetail",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "UndecryptableMessages",
                table: "Instances");
        }
    }
}
