using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Postgres
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
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "CachedGroups",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    InstanceId = table.Column<int>(type: "integer", nullable: false),
                    GroupJid = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Subject = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Description = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true),
                    Owner = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: true),
                    ParticipantsJson = table.Column<string>(type: "text", nullable: false),
                    Size = table.Column<int>(type: "integer", nullable: false),
                    OurRole = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    Announce = table.Column<bool>(type: "boolean", nullable: false),
                    Restrict = table.Column<bool>(type: "boolean", nullable: false),
                    Left = table.Column<bool>(type: "boolean", nullable: false),
                    RefreshedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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
