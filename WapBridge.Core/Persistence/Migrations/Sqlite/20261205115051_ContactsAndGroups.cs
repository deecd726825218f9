using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ContactsAndGroups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "CheckNumbersFirst",
                table: "Campaigns",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "CachedGroups",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    InstanceId = table.Column<int>(type: "INTEGER", nullable: false),
                    GroupJid = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    Owner = table.Column<string>(type: "TEXT", maxLength: 40, nullable: true),
                    ParticipantsJson = table.Column<string>(type: "TEXT", nullable: false),
                    Size = table.Column<int>(type: "INTEGER", nullable: false),
                    OurRole = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Announce = table.Column<bool>(type: "INTEGER", nullable: false),
                    Restrict = table.Column<bool>(type: "INTEGER", nullable: false),
                    Left = table.Column<bool>(type: "INTEGER", nullable: false),
                    RefreshedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CachedGroups", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CachedGroups_Instances_InstanceId",
                        column: x => x.InstanceId,
                        principalTable: "Instances",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_CachedGroups_InstanceId_GroupJid",
                table: "CachedGroups",
                columns: new[] { "InstanceId", "GroupJid" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CachedGroups");

            migrationBuilder.DropColumn(
                name: "CheckNumbersFirst",
                table: "Campaigns");
        }
    }
}
