using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WapBridge.Core.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class InstanceActorsAndFence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "NodeId",
                table: "InstanceStateChanges",
                type: "character varying(8)",
                maxLength: 8,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "SessionEpoch",
                table: "Instances",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "SessionNode",
                table: "Instances",
                type: "character varying(8)",
                maxLength: 8,
                nullable: true);

            migrationBuilder.Sql(OrleansMembershipSchema.Create);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql(OrleansMembershipSchema.Drop);

            migrationBuilder.DropColumn(
                name: "NodeId",
                table: "InstanceStateChanges");

            migrationBuilder.DropColumn(
                name: "SessionEpoch",
                table: "Instances");

            migrationBuilder.DropColumn(
                name: "SessionNode",
                table: "Instances");
        }
    }
}
